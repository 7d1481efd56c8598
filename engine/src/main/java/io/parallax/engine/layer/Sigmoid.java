package io.parallax.engine.layer;

import io.parallax.engine.backend.ActivationFunction;

/**
 * {@code torch.nn.Sigmoid}: y = 1/(1 + e^−x), computed without overflow; dy/dx = y(1 − y).
 */
public final class Sigmoid extends ElementwiseActivation {

    public Sigmoid() {
        super(ActivationFunction.SIGMOID, 0f);
    }

    @Override
    public String type() {
        return "sigmoid";
    }
}
