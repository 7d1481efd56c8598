package io.parallax.engine.schedule;

/** Exponential decay, {@code torch.optim.lr_scheduler.ExponentialLR}: lr(t) = lr₀·γ^t. */
public record ExponentialDecay(double initialLearningRate, double gamma) implements LearningRateSchedule {

    public ExponentialDecay {
        LearningRateSchedule.requireLearningRate(initialLearningRate);
        if (!(gamma > 0 && gamma <= 1)) {
            throw new IllegalArgumentException("exponential decay gamma must be in (0, 1], got " + gamma);
        }
    }

    @Override
    public double learningRate(long t) {
        LearningRateSchedule.requireValidT(t);
        return initialLearningRate * Math.pow(gamma, t);
    }
}
