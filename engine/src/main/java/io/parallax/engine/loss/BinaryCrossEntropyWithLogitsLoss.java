package io.parallax.engine.loss;

import io.parallax.engine.tensor.Tensor;

/**
 * {@code torch.nn.BCEWithLogitsLoss} on raw scores x and targets t ∈ [0, 1]:
 * ℓ = max(x, 0) − x·t + log(1 + e^−|x|), stable for any x. Gradient σ(x) − t, divided by the
 * number of elements under the mean reduction.
 */
public final class BinaryCrossEntropyWithLogitsLoss implements Loss {

    private final Reduction reduction;

    public BinaryCrossEntropyWithLogitsLoss() {
        this(Reduction.MEAN);
    }

    public BinaryCrossEntropyWithLogitsLoss(Reduction reduction) {
        this.reduction = reduction;
    }

    @Override
    public String type() {
        return "bce_with_logits";
    }

    @Override
    public Reduction reduction() {
        return reduction;
    }

    @Override
    public long meanDivisor(long rows, long width) {
        return rows * width;
    }

    @Override
    public double compute(Tensor output, Targets targets, Tensor grad) {
        Tensor t = targets.requireValues("binary cross-entropy with logits", output);
        Loss.requireFinite("binary cross-entropy with logits", output);
        long n = meanDivisor(output.rows(), output.cols());
        float scale = reduction == Reduction.MEAN && n > 0 ? 1f / n : 1f;
        double sum = output.backend().binaryCrossEntropyWithLogits(output, t, scale, grad);
        return reduction == Reduction.MEAN && n > 0 ? sum / n : sum;
    }

    @Override
    public String toString() {
        return "BinaryCrossEntropyWithLogitsLoss(reduction=" + reduction + ")";
    }
}
