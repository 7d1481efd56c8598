package io.parallax.engine.schedule;

/**
 * Inverse square root: lr(t) = lr₀·k/√t once t ≥ k², and lr₀ before (where k/√t would exceed
 * 1). This is the Transformer/fairseq form with k = √(warm-up length); the plateau keeps the
 * rate finite at t = 0 and continuous at t = k².
 */
public record InverseSquareRootDecay(double initialLearningRate, double k) implements LearningRateSchedule {

    public InverseSquareRootDecay {
        LearningRateSchedule.requireLearningRate(initialLearningRate);
        LearningRateSchedule.requirePositive("inverse square root k", k);
    }

    @Override
    public double learningRate(long t) {
        LearningRateSchedule.requireValidT(t);
        return initialLearningRate * Math.min(1.0, k / Math.sqrt(t));
    }
}
