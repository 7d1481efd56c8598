package io.parallax.engine.layer;

import io.parallax.engine.backend.ActivationFunction;
import java.util.Map;

/**
 * {@code torch.nn.LeakyReLU(negative_slope=0.01)}: y = x for x ≥ 0, else negative_slope·x;
 * dy/dx = 1 for x &gt; 0, else negative_slope (at exactly 0 the slope, as PyTorch).
 */
public final class LeakyReLU extends ElementwiseActivation {

    /** PyTorch's default negative slope. */
    public static final float DEFAULT_NEGATIVE_SLOPE = 0.01f;

    public LeakyReLU() {
        this(DEFAULT_NEGATIVE_SLOPE);
    }

    public LeakyReLU(float negativeSlope) {
        super(ActivationFunction.LEAKY_RELU, checked(negativeSlope));
    }

    private static float checked(float slope) {
        if (!Float.isFinite(slope)) {
            throw new IllegalArgumentException("LeakyReLU negative_slope must be finite, got " + slope);
        }
        return slope;
    }

    public float negativeSlope() {
        return parameter();
    }

    @Override
    public String type() {
        return "leaky_relu";
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = super.config();
        c.put("negative_slope", Layer.decimal(parameter()));
        return c;
    }
}
