package io.parallax.engine.layer;

import io.parallax.engine.backend.ActivationFunction;

/**
 * {@code torch.nn.Identity}: y = x; dy/dx = 1.
 */
public final class Identity extends ElementwiseActivation {

    public Identity() {
        super(ActivationFunction.IDENTITY, 0f);
    }

    @Override
    public String type() {
        return "identity";
    }
}
