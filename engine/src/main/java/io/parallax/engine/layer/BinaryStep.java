package io.parallax.engine.layer;

import io.parallax.engine.backend.ActivationFunction;

/**
 * Heaviside step: y = 1 if x ≥ 0 else 0.
 *
 * <p>Its derivative is zero everywhere (undefined at 0, taken as 0), so <strong>no gradient
 * flows through it</strong>: layers below a BinaryStep receive zero gradients and cannot be
 * trained by gradient descent. Use it as a final thresholding stage, or above frozen layers.
 * PyTorch has no such module; {@code (x >= 0).float()} computes the same forward.
 */
public final class BinaryStep extends ElementwiseActivation {

    public BinaryStep() {
        super(ActivationFunction.BINARY_STEP, 0f);
    }

    @Override
    public String type() {
        return "binary_step";
    }
}
