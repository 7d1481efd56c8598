package io.parallax.engine.schedule;

/** lr(t) = lr₀. */
public record ConstantSchedule(double initialLearningRate) implements LearningRateSchedule {

    public ConstantSchedule {
        LearningRateSchedule.requireLearningRate(initialLearningRate);
    }

    @Override
    public double learningRate(long t) {
        LearningRateSchedule.requireValidT(t);
        return initialLearningRate;
    }
}
