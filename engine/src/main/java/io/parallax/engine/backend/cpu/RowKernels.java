package io.parallax.engine.backend.cpu;

import java.nio.FloatBuffer;

/** Softmax and argmax over the rows of a row-major matrix. */
final class RowKernels {

    private RowKernels() {}

    static void softmax(FloatBuffer x, int xo, FloatBuffer y, int yo, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int xr = xo + r * cols;
            int yr = yo + r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                max = Math.max(max, x.get(xr + c));
            }
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                float e = (float) Math.exp(x.get(xr + c) - max);
                y.put(yr + c, e);
                sum += e;
            }
            float inv = (float) (1.0 / sum);
            for (int c = 0; c < cols; c++) {
                y.put(yr + c, y.get(yr + c) * inv);
            }
        }
    }

    static void softmaxBackward(FloatBuffer y, int yo, FloatBuffer dy, int dyo, FloatBuffer dx, int dxo,
                                int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            double dot = 0;
            for (int c = 0; c < cols; c++) {
                dot += (double) dy.get(dyo + r * cols + c) * y.get(yo + r * cols + c);
            }
            float d = (float) dot;
            for (int c = 0; c < cols; c++) {
                int i = r * cols + c;
                dx.put(dxo + i, y.get(yo + i) * (dy.get(dyo + i) - d));
            }
        }
    }

    static void argmax(FloatBuffer x, int xo, int rows, int cols, int[] out) {
        for (int r = 0; r < rows; r++) {
            int xr = xo + r * cols;
            int best = 0;
            float bestValue = cols > 0 ? x.get(xr) : Float.NaN;
            for (int c = 1; c < cols; c++) {
                float v = x.get(xr + c);
                if (v > bestValue) {
                    bestValue = v;
                    best = c;
                }
            }
            out[r] = best;
        }
    }
}
