package io.parallax.engine.backend.cpu;

import java.nio.FloatBuffer;

/** Fused loss + gradient loops; sums are kept in double so the loss of a large batch stays exact. */
final class LossKernels {

    private LossKernels() {}

    static double crossEntropy(FloatBuffer x, int xo, int rows, int cols, int[] labels,
                               float gradScale, FloatBuffer g, int go) {
        if (labels.length < rows) {
            throw new IllegalArgumentException("cross-entropy needs " + rows + " labels, got " + labels.length);
        }
        double[] e = Scratch.get().row(cols);
        double total = 0;
        for (int r = 0; r < rows; r++) {
            int label = labels[r];
            if (label < 0 || label >= cols) {
                throw new IllegalArgumentException("label " + label + " at row " + r + " is outside [0, "
                        + cols + "): the model has " + cols + " outputs");
            }
            int xr = xo + r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                max = Math.max(max, x.get(xr + c));
            }
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                e[c] = Math.exp(x.get(xr + c) - max); // kept for the gradient: one exp per logit
                sum += e[c];
            }
            double logSum = Math.log(sum);
            total += max + logSum - x.get(xr + label);
            if (g != null) {
                int gr = go + r * cols;
                double inv = 1.0 / sum;
                for (int c = 0; c < cols; c++) {
                    double p = e[c] * inv;
                    g.put(gr + c, (float) (gradScale * (p - (c == label ? 1.0 : 0.0))));
                }
            }
        }
        return total;
    }

    static double bceWithLogits(FloatBuffer x, int xo, FloatBuffer t, int to, int n, float gradScale,
                                FloatBuffer g, int go) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            double v = x.get(xo + i);
            double y = t.get(to + i);
            total += Math.max(v, 0) - v * y + Math.log1p(Math.exp(-Math.abs(v)));
            if (g != null) {
                double s = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
                g.put(go + i, (float) (gradScale * (s - y)));
            }
        }
        return total;
    }

    static double bce(FloatBuffer p, int po, FloatBuffer t, int to, int n, float gradScale, FloatBuffer g, int go) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            double q = p.get(po + i);
            if (!(q >= 0 && q <= 1)) {
                throw new IllegalArgumentException("binary cross-entropy expects probabilities in [0, 1], got "
                        + q + " at element " + i + " (use the with-logits loss on raw scores)");
            }
            double y = t.get(to + i);
            double logQ = Math.max(Math.log(q), -100);
            double log1mQ = Math.max(Math.log1p(-q), -100);
            total += -(y * logQ + (1 - y) * log1mQ);
            if (g != null) {
                g.put(go + i, (float) (gradScale * (q - y) / Math.max(q * (1 - q), 1e-12)));
            }
        }
        return total;
    }

    static double squaredError(FloatBuffer y, int yo, FloatBuffer t, int to, int n, float gradScale,
                               FloatBuffer g, int go) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            double d = (double) y.get(yo + i) - t.get(to + i);
            total += d * d;
            if (g != null) {
                g.put(go + i, (float) (gradScale * 2 * d));
            }
        }
        return total;
    }
}
