package io.parallax.engine.loss;

import io.parallax.engine.tensor.Tensor;

/**
 * {@code torch.nn.BCELoss} on probabilities p ∈ [0, 1] (e.g. after a Sigmoid layer):
 * ℓ = −(t·log p + (1 − t)·log(1 − p)), each log clamped at −100 as PyTorch does so p = 0 or 1
 * gives a finite loss. Gradient (p − t)/max(p(1 − p), 1e-12). Prefer
 * {@link BinaryCrossEntropyWithLogitsLoss} on raw scores: it is stable where this saturates.
 */
public final class BinaryCrossEntropyLoss implements Loss {

    private final Reduction reduction;

    public BinaryCrossEntropyLoss() {
        this(Reduction.MEAN);
    }

    public BinaryCrossEntropyLoss(Reduction reduction) {
        this.reduction = reduction;
    }

    @Override
    public String type() {
        return "bce";
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
        Tensor t = targets.requireValues("binary cross-entropy", output);
        long n = meanDivisor(output.rows(), output.cols());
        float scale = reduction == Reduction.MEAN && n > 0 ? 1f / n : 1f;
        double sum = output.backend().binaryCrossEntropy(output, t, scale, grad);
        return reduction == Reduction.MEAN && n > 0 ? sum / n : sum;
    }

    @Override
    public String toString() {
        return "BinaryCrossEntropyLoss(reduction=" + reduction + ")";
    }
}
