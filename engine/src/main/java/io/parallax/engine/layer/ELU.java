package io.parallax.engine.layer;

import io.parallax.engine.backend.ActivationFunction;
import java.util.Map;

/**
 * {@code torch.nn.ELU(alpha=1.0)}: y = x for x &gt; 0, else α(eˣ − 1); dy/dx = 1 for x &gt; 0,
 * else α·eˣ.
 */
public final class ELU extends ElementwiseActivation {

    /** PyTorch's default α. */
    public static final float DEFAULT_ALPHA = 1.0f;

    public ELU() {
        this(DEFAULT_ALPHA);
    }

    public ELU(float alpha) {
        super(ActivationFunction.ELU, checked(alpha));
    }

    private static float checked(float alpha) {
        if (!Float.isFinite(alpha)) {
            throw new IllegalArgumentException("ELU alpha must be finite, got " + alpha);
        }
        return alpha;
    }

    public float alpha() {
        return parameter();
    }

    @Override
    public String type() {
        return "elu";
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = super.config();
        c.put("alpha", Layer.decimal(parameter()));
        return c;
    }
}
