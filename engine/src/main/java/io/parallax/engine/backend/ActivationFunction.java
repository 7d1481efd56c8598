package io.parallax.engine.backend;

/**
 * The element-wise functions a backend must compute, forward and backward. Layers name one of
 * these instead of carrying their own loops, so a new backend implements a single switch.
 *
 * <p>Backward receives the input x, the output y = f(x) and the upstream gradient dy, and
 * writes dx = f'(x)·dy; each function uses whichever of x and y is cheaper and more exact.
 */
public enum ActivationFunction {
    /** y = x. */
    IDENTITY,
    /** y = max(0, x); f'(0) = 0 as in PyTorch. */
    RELU,
    /** y = x if x ≥ 0 else slope·x (slope = the parameter, PyTorch default 0.01). */
    LEAKY_RELU,
    /** y = x if x > 0 else α(eˣ − 1) (α = the parameter, default 1.0). */
    ELU,
    /** y = 1/(1 + e⁻ˣ). */
    SIGMOID,
    /** y = tanh(x). */
    TANH,
    /** y = x·σ(x) (Swish with β = 1, a.k.a. SiLU). */
    SWISH,
    /** y = 1 if x ≥ 0 else 0; the derivative is 0 everywhere (no gradient flows through). */
    BINARY_STEP
}
