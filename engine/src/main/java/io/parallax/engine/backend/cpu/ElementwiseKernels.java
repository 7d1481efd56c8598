package io.parallax.engine.backend.cpu;

import io.parallax.engine.backend.ActivationFunction;
import java.nio.FloatBuffer;

/** Activation loops, one tight loop per function so the JIT compiles each without dispatch. */
final class ElementwiseKernels {

    private ElementwiseKernels() {}

    static void forward(ActivationFunction f, float param, FloatBuffer x, int xo, FloatBuffer y, int yo, int n) {
        switch (f) {
            case IDENTITY -> y.put(yo, x, xo, n);
            case RELU -> relu(x, xo, y, yo, n);
            case LEAKY_RELU -> {
                for (int i = 0; i < n; i++) {
                    float v = x.get(xo + i);
                    y.put(yo + i, v >= 0f ? v : v * param);
                }
            }
            case ELU -> {
                for (int i = 0; i < n; i++) {
                    float v = x.get(xo + i);
                    y.put(yo + i, v > 0f ? v : (float) (param * Math.expm1(v)));
                }
            }
            case SIGMOID -> {
                for (int i = 0; i < n; i++) {
                    y.put(yo + i, sigmoid(x.get(xo + i)));
                }
            }
            case TANH -> {
                for (int i = 0; i < n; i++) {
                    y.put(yo + i, (float) Math.tanh(x.get(xo + i)));
                }
            }
            case SWISH -> {
                for (int i = 0; i < n; i++) {
                    float v = x.get(xo + i);
                    y.put(yo + i, v * sigmoid(v));
                }
            }
            case BINARY_STEP -> {
                for (int i = 0; i < n; i++) {
                    y.put(yo + i, x.get(xo + i) >= 0f ? 1f : 0f);
                }
            }
            default -> throw new IllegalArgumentException("unknown activation " + f);
        }
    }

    static void backward(ActivationFunction f, float param, FloatBuffer x, int xo, FloatBuffer y, int yo,
                         FloatBuffer dy, int dyo, FloatBuffer dx, int dxo, int n) {
        switch (f) {
            case IDENTITY -> dx.put(dxo, dy, dyo, n);
            case RELU -> reluBackward(y, yo, dy, dyo, dx, dxo, n);
            case LEAKY_RELU -> {
                // x > 0, not ≥: at exactly 0 PyTorch's gradient is the slope (as ReLU's is 0 there)
                for (int i = 0; i < n; i++) {
                    float g = dy.get(dyo + i);
                    dx.put(dxo + i, x.get(xo + i) > 0f ? g : g * param);
                }
            }
            case ELU -> {
                // for x ≤ 0: α·eˣ from x, not y + α: for very negative x, y + α cancels to a few
                // ulps of α and loses the derivative's relative precision
                for (int i = 0; i < n; i++) {
                    float g = dy.get(dyo + i);
                    float v = x.get(xo + i);
                    dx.put(dxo + i, v > 0f ? g : (float) (g * param * Math.exp(v)));
                }
            }
            case SIGMOID -> {
                for (int i = 0; i < n; i++) {
                    float s = y.get(yo + i);
                    dx.put(dxo + i, dy.get(dyo + i) * s * (1f - s));
                }
            }
            case TANH -> {
                for (int i = 0; i < n; i++) {
                    float t = y.get(yo + i);
                    dx.put(dxo + i, dy.get(dyo + i) * (1f - t * t));
                }
            }
            case SWISH -> {
                // d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x)))
                for (int i = 0; i < n; i++) {
                    float v = x.get(xo + i);
                    float s = sigmoid(v);
                    dx.put(dxo + i, dy.get(dyo + i) * s * (1f + v * (1f - s)));
                }
            }
            case BINARY_STEP -> {
                for (int i = 0; i < n; i++) {
                    dx.put(dxo + i, 0f);
                }
            }
            default -> throw new IllegalArgumentException("unknown activation " + f);
        }
    }

    /**
     * y = max(x, 0) in heap chunks (see {@link Scratch}). {@code Math.max} vectorises where the
     * ternary {@code x > 0 ? x : 0} does not on JDK 17; it also propagates NaN, as torch.relu does.
     */
    private static void relu(FloatBuffer x, int xo, FloatBuffer y, int yo, int n) {
        float[] a = Scratch.get().a;
        for (int done = 0; done < n; done += Scratch.CHUNK) {
            int len = Math.min(Scratch.CHUNK, n - done);
            x.get(xo + done, a, 0, len);
            for (int i = 0; i < len; i++) {
                a[i] = Math.max(a[i], 0f);
            }
            y.put(yo + done, a, 0, len);
        }
    }

    /**
     * dx = dy where y &gt; 0, else +0 (PyTorch's threshold_backward), computed from the output:
     * y &gt; 0 exactly where x &gt; 0, and y is hotter in cache.
     *
     * <p>The select {@code y > 0 ? dy : 0} does not vectorise on JDK 17, so the fast loop
     * multiplies by a 0/1 mask built from min/mul, which do: y·2¹⁴⁹ is ≥ 1 for every y &gt; 0
     * (the smallest subnormal is 2⁻¹⁴⁹) and 0 for y = 0, so min(y·2¹⁴⁹, 1) is the mask; "+ 0"
     * turns the −0 of a negative dy times 0 into +0. This equals the select for all finite dy
     * and non-NaN y (except dy = −0 where y &gt; 0, which gives +0). Where dy is ±Inf/NaN or y is
     * NaN, mask·dy is NaN at a masked element, so a finiteness check of the result triggers an
     * exact pass that puts 0 wherever !(y &gt; 0); elsewhere the fast result already is dy. That
     * pass needs only y and the result, so dx may alias dy.
     */
    private static void reluBackward(FloatBuffer y, int yo, FloatBuffer dy, int dyo, FloatBuffer dx, int dxo, int n) {
        Scratch s = Scratch.get();
        float[] ys = s.a;
        float[] gs = s.b;
        for (int done = 0; done < n; done += Scratch.CHUNK) {
            int len = Math.min(Scratch.CHUNK, n - done);
            y.get(yo + done, ys, 0, len);
            dy.get(dyo + done, gs, 0, len);
            for (int i = 0; i < len; i++) {
                // two factors because 2^149 is not a float
                gs[i] = gs[i] * Math.min(ys[i] * 0x1p127f * 0x1p22f, 1f) + 0f;
            }
            dx.put(dxo + done, gs, 0, len);
        }
        if (NonFinite.maybeIn(dx, dxo, n)) {
            for (int i = 0; i < n; i++) {
                if (!(y.get(yo + i) > 0f)) {
                    dx.put(dxo + i, 0f);
                }
            }
        }
    }

    /** σ(x) without overflow: e^−|x| never exceeds 1. */
    static float sigmoid(float v) {
        if (v >= 0f) {
            return (float) (1.0 / (1.0 + Math.exp(-v)));
        }
        double e = Math.exp(v);
        return (float) (e / (1.0 + e));
    }
}
