package io.parallax.engine.backend.cpu;

import java.nio.FloatBuffer;

/** Batch-normalisation kernels over the columns (features) of a row-major [batch, features] matrix. */
final class NormKernels {

    private NormKernels() {}

    /** Two passes in double (mean, then squared deviations), so var never goes negative. */
    static void columnMeanVariance(FloatBuffer x, int xo, int rows, int cols,
                                   FloatBuffer mean, int mo, FloatBuffer var, int vo) {
        double[] sum = new double[cols];
        for (int r = 0; r < rows; r++) {
            int xr = xo + r * cols;
            for (int c = 0; c < cols; c++) {
                sum[c] += x.get(xr + c);
            }
        }
        double[] mu = new double[cols];
        for (int c = 0; c < cols; c++) {
            mu[c] = sum[c] / rows;
            sum[c] = 0;
        }
        for (int r = 0; r < rows; r++) {
            int xr = xo + r * cols;
            for (int c = 0; c < cols; c++) {
                double d = x.get(xr + c) - mu[c];
                sum[c] += d * d;
            }
        }
        for (int c = 0; c < cols; c++) {
            mean.put(mo + c, (float) mu[c]);
            var.put(vo + c, (float) (sum[c] / rows));
        }
    }

    static void apply(FloatBuffer x, int xo, int rows, int cols, FloatBuffer mean, int mo, FloatBuffer var, int vo,
                      float eps, FloatBuffer gamma, int go, FloatBuffer beta, int bo,
                      FloatBuffer invStd, int io, FloatBuffer y, int yo) {
        float[] scale = new float[cols];
        float[] shift = new float[cols];
        for (int c = 0; c < cols; c++) {
            float inv = (float) (1.0 / Math.sqrt((double) var.get(vo + c) + eps));
            invStd.put(io + c, inv);
            float g = gamma == null ? 1f : gamma.get(go + c);
            float b = beta == null ? 0f : beta.get(bo + c);
            scale[c] = inv * g;
            shift[c] = b - mean.get(mo + c) * inv * g;
        }
        for (int r = 0; r < rows; r++) {
            int xr = xo + r * cols;
            int yr = yo + r * cols;
            for (int c = 0; c < cols; c++) {
                y.put(yr + c, x.get(xr + c) * scale[c] + shift[c]);
            }
        }
    }

    static void backward(FloatBuffer x, int xo, int rows, int cols, FloatBuffer mean, int mo,
                         FloatBuffer invStd, int io, FloatBuffer gamma, int go, FloatBuffer dy, int dyo,
                         FloatBuffer dGamma, int dgo, FloatBuffer dBeta, int dbo,
                         FloatBuffer dx, int dxo, boolean batchStatistics) {
        double[] sumDy = new double[cols];
        double[] sumDyXhat = new double[cols];
        float[] mu = new float[cols];
        float[] inv = new float[cols];
        for (int c = 0; c < cols; c++) {
            mu[c] = mean.get(mo + c);
            inv[c] = invStd.get(io + c);
        }
        for (int r = 0; r < rows; r++) {
            int xr = xo + r * cols;
            int dr = dyo + r * cols;
            for (int c = 0; c < cols; c++) {
                float g = dy.get(dr + c);
                sumDy[c] += g;
                sumDyXhat[c] += (double) g * ((x.get(xr + c) - mu[c]) * inv[c]);
            }
        }
        for (int c = 0; c < cols; c++) {
            if (dGamma != null) {
                dGamma.put(dgo + c, (float) sumDyXhat[c]);
            }
            if (dBeta != null) {
                dBeta.put(dbo + c, (float) sumDy[c]);
            }
        }
        if (dx == null) {
            return;
        }
        float[] k = new float[cols];
        float[] meanDy = new float[cols];
        float[] meanDyXhat = new float[cols];
        for (int c = 0; c < cols; c++) {
            k[c] = (gamma == null ? 1f : gamma.get(go + c)) * inv[c];
            meanDy[c] = (float) (sumDy[c] / rows);
            meanDyXhat[c] = (float) (sumDyXhat[c] / rows);
        }
        for (int r = 0; r < rows; r++) {
            int xr = xo + r * cols;
            int dr = dyo + r * cols;
            int or = dxo + r * cols;
            if (batchStatistics) {
                // dx = γ·invStd·(dy − mean(dy) − x̂·mean(dy·x̂))
                for (int c = 0; c < cols; c++) {
                    float xhat = (x.get(xr + c) - mu[c]) * inv[c];
                    dx.put(or + c, k[c] * (dy.get(dr + c) - meanDy[c] - xhat * meanDyXhat[c]));
                }
            } else {
                for (int c = 0; c < cols; c++) {
                    dx.put(or + c, k[c] * dy.get(dr + c));
                }
            }
        }
    }
}
