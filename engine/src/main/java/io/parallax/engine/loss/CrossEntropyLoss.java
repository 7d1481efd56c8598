package io.parallax.engine.loss;

import io.parallax.engine.tensor.Tensor;

/**
 * {@code torch.nn.CrossEntropyLoss} on logits [batch, classes] and class indices:
 * ℓ_r = −log softmax(x_r)[y_r] = logsumexp(x_r) − x_r[y_r], computed with the max subtracted so
 * no exponential overflows. Gradient: softmax(x) − onehot(y), divided by the batch size under
 * the mean reduction.
 */
public final class CrossEntropyLoss implements Loss {

    private final Reduction reduction;

    public CrossEntropyLoss() {
        this(Reduction.MEAN);
    }

    public CrossEntropyLoss(Reduction reduction) {
        this.reduction = reduction;
    }

    @Override
    public String type() {
        return "cross_entropy";
    }

    @Override
    public Reduction reduction() {
        return reduction;
    }

    @Override
    public long meanDivisor(long rows, long width) {
        return rows;
    }

    @Override
    public double compute(Tensor output, Targets targets, Tensor grad) {
        int[] labels = targets.requireClasses("cross-entropy");
        if (labels.length != output.rows()) {
            throw new IllegalArgumentException("cross-entropy: " + labels.length + " labels for "
                    + output.rows() + " output rows");
        }
        Loss.requireFinite("cross-entropy", output);
        long n = meanDivisor(output.rows(), output.cols());
        float scale = reduction == Reduction.MEAN && n > 0 ? 1f / n : 1f;
        double sum = output.backend().crossEntropyWithLogits(output, labels, scale, grad);
        return reduction == Reduction.MEAN && n > 0 ? sum / n : sum;
    }

    @Override
    public String toString() {
        return "CrossEntropyLoss(reduction=" + reduction + ")";
    }
}
