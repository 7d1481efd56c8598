package io.parallax.engine.layer;

import io.parallax.engine.backend.ActivationFunction;

/**
 * {@code torch.nn.SiLU} (Swish with β = 1): y = x·σ(x); dy/dx = σ(x)(1 + x(1 − σ(x))).
 */
public final class Swish extends ElementwiseActivation {

    public Swish() {
        super(ActivationFunction.SWISH, 0f);
    }

    @Override
    public String type() {
        return "swish";
    }
}
