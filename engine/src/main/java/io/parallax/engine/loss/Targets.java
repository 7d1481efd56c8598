package io.parallax.engine.loss;

import io.parallax.engine.tensor.Tensor;

/**
 * What a loss compares the model's output with: class indices (cross-entropy, multi-class
 * accuracy) or a tensor of values shaped like the output (binary cross-entropy, MSE).
 */
public record Targets(int[] classes, Tensor values) {

    public static Targets classes(int... labels) {
        return new Targets(labels, null);
    }

    public static Targets values(Tensor values) {
        return new Targets(null, values);
    }

    int[] requireClasses(String loss) {
        if (classes == null) {
            throw new IllegalArgumentException(loss + " needs class-index targets (Targets.classes)");
        }
        return classes;
    }

    Tensor requireValues(String loss, Tensor output) {
        if (values == null) {
            throw new IllegalArgumentException(loss + " needs value targets shaped like the output (Targets.values)");
        }
        if (values.size() != output.size()) {
            throw new IllegalArgumentException(loss + ": targets " + values + " do not match the output " + output);
        }
        return values;
    }
}
