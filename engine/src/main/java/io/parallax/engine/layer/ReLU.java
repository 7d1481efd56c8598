package io.parallax.engine.layer;

import io.parallax.engine.backend.ActivationFunction;

/**
 * {@code torch.nn.ReLU}: y = max(0, x); dy/dx = 1 for x &gt; 0, else 0 (0 at x = 0, as PyTorch).
 */
public final class ReLU extends ElementwiseActivation {

    public ReLU() {
        super(ActivationFunction.RELU, 0f);
    }

    @Override
    public String type() {
        return "relu";
    }
}
