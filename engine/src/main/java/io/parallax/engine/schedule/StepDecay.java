package io.parallax.engine.schedule;

/** Step decay, {@code torch.optim.lr_scheduler.StepLR}: lr(t) = lr₀·γ^⌊t / n⌋ (×γ every n). */
public record StepDecay(double initialLearningRate, long stepSize, double gamma) implements LearningRateSchedule {

    public StepDecay {
        LearningRateSchedule.requireLearningRate(initialLearningRate);
        if (stepSize < 1) {
            throw new IllegalArgumentException("step decay step_size must be ≥ 1, got " + stepSize);
        }
        if (!(gamma > 0 && gamma <= 1)) {
            throw new IllegalArgumentException("step decay gamma must be in (0, 1], got " + gamma);
        }
    }

    @Override
    public double learningRate(long t) {
        LearningRateSchedule.requireValidT(t);
        return initialLearningRate * Math.pow(gamma, t / stepSize);
    }
}
