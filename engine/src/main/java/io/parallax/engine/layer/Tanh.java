package io.parallax.engine.layer;

import io.parallax.engine.backend.ActivationFunction;

/**
 * {@code torch.nn.Tanh}: y = tanh(x); dy/dx = 1 − y².
 */
public final class Tanh extends ElementwiseActivation {

    public Tanh() {
        super(ActivationFunction.TANH, 0f);
    }

    @Override
    public String type() {
        return "tanh";
    }
}
