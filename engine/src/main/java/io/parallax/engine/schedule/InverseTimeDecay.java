package io.parallax.engine.schedule;

/** Inverse-time decay: lr(t) = lr₀ / (1 + decay·t). */
public record InverseTimeDecay(double initialLearningRate, double decay) implements LearningRateSchedule {

    public InverseTimeDecay {
        LearningRateSchedule.requireLearningRate(initialLearningRate);
        if (!(decay >= 0) || !Double.isFinite(decay)) {
            throw new IllegalArgumentException("inverse-time decay rate must be ≥ 0, got " + decay);
        }
    }

    @Override
    public double learningRate(long t) {
        LearningRateSchedule.requireValidT(t);
        return initialLearningRate / (1 + decay * t);
    }
}
