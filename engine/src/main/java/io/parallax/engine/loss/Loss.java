package io.parallax.engine.loss;

import io.parallax.engine.tensor.Tensor;

/**
 * A loss with its gradient, fused. {@link #compute} returns the reduced loss and, when given a
 * gradient tensor shaped like the output, writes dL/d(output) into it in the same pass.
 */
public interface Loss {

    /** PyTorch's {@code reduction}: the mean (the default) or the sum over the batch. */
    enum Reduction { MEAN, SUM }

    /** The loss's name as the model description spells it, e.g. {@code "cross_entropy"}. */
    String type();

    Reduction reduction();

    /**
     * What PyTorch's mean reduction divides the summed loss by, for an output of {@code rows} ×
     * {@code width}: the rows for cross-entropy, every element for the element-wise losses (MSE,
     * binary cross-entropy). A data-parallel step adds its workers' {@link Reduction#SUM} losses
     * and gradients and divides by this for the whole batch, so that it matches
     * {@link Reduction#MEAN} on one node.
     */
    long meanDivisor(long rows, long width);

    /**
     * The loss of {@code output} against {@code targets}; when {@code grad} is not null, also
     * writes dL/d(output) into it.
     */
    double compute(Tensor output, Targets targets, Tensor grad);

    /** The loss alone. */
    default double compute(Tensor output, Targets targets) {
        return compute(output, targets, null);
    }

    /** Fails when the output holds a value no loss can use. */
    static void requireFinite(String loss, Tensor output) {
        long bad = output.backend().firstNonFinite(output);
        if (bad >= 0) {
            throw new IllegalArgumentException(loss + ": model output holds " + output.get(bad) + " at element "
                    + bad + "; the model diverged or its input is bad");
        }
    }
}
