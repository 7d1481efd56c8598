package io.parallax.engine.loss;

import io.parallax.engine.tensor.Tensor;

/**
 * {@code torch.nn.MSELoss}: ℓ = (y − t)², averaged over every element (mean) or summed.
 * Gradient 2(y − t), divided by the number of elements under the mean reduction.
 */
public final class MeanSquaredErrorLoss implements Loss {

    private final Reduction reduction;

    public MeanSquaredErrorLoss() {
        this(Reduction.MEAN);
    }

    public MeanSquaredErrorLoss(Reduction reduction) {
        this.reduction = reduction;
    }

    @Override
    public String type() {
        return "mse";
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
        Tensor t = targets.requireValues("mean squared error", output);
        Loss.requireFinite("mean squared error", output);
        long n = meanDivisor(output.rows(), output.cols());
        float scale = reduction == Reduction.MEAN && n > 0 ? 1f / n : 1f;
        double sum = output.backend().squaredError(output, t, scale, grad);
        return reduction == Reduction.MEAN && n > 0 ? sum / n : sum;
    }

    @Override
    public String toString() {
        return "MeanSquaredErrorLoss(reduction=" + reduction + ")";
    }
}
