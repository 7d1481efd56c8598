package io.parallax.engine.backend.cpu;

import io.parallax.engine.backend.ActivationFunction;
import java.nio.FloatBuffer;

/** Activation loops, one tight loop per function so the JIT compiles each without dispatch. */
final class ElementwiseKernels {

    private ElementwiseKernels() {}

    static void forward(ActivationFunction f, float param, FloatBuffer x, int xo, FloatBuffer y, int yo, int n) {
        switch (f) {
            case IDENTITY -> y.put(yo, x, xo, n);
            case RELU -> {
                for (int i = 0; i < n; i++) {
                    float v = x.get(xo + i);
                    y.put(yo + i, v > 0f ? v : 0f);
                }
            }
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
            case RELU -> {
                // from the output: y > 0 exactly where x > 0, and y is hotter in cache
                for (int i = 0; i < n; i++) {
                    dx.put(dxo + i, y.get(yo + i) > 0f ? dy.get(dyo + i) : 0f);
                }
            }
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

    /** σ(x) without overflow: e^−|x| never exceeds 1. */
    static float sigmoid(float v) {
        if (v >= 0f) {
            return (float) (1.0 / (1.0 + Math.exp(-v)));
        }
        double e = Math.exp(v);
        return (float) (e / (1.0 + e));
    }
}
