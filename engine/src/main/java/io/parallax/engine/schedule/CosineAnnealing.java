package io.parallax.engine.schedule;

/**
 * Cosine annealing, {@code torch.optim.lr_scheduler.CosineAnnealingLR} (closed form, no
 * restarts): lr(t) = η_min + (lr₀ − η_min)·(1 + cos(π·t/T_max))/2. Past T_max the cosine
 * continues (it rises again), as PyTorch's scheduler does; pick T_max ≥ the run's length to
 * end at η_min. A parameter group with its own scale anneals from scale·lr₀ to the same η_min
 * ({@link #unscaledPart}).
 */
public record CosineAnnealing(double initialLearningRate, long tMax, double etaMin) implements LearningRateSchedule {

    public CosineAnnealing {
        LearningRateSchedule.requireLearningRate(initialLearningRate);
        if (tMax < 1) {
            throw new IllegalArgumentException("cosine annealing T_max must be ≥ 1, got " + tMax);
        }
        if (!(etaMin >= 0) || etaMin > initialLearningRate) {
            throw new IllegalArgumentException("cosine annealing eta_min must be in [0, lr], got " + etaMin);
        }
    }

    @Override
    public double learningRate(long t) {
        LearningRateSchedule.requireValidT(t);
        return etaMin + (initialLearningRate - etaMin) * (1 + Math.cos(Math.PI * t / tMax)) / 2;
    }

    /**
     * η_min·(1 − (1 + cos(π·t/T_max))/2): η_min is the same for every parameter group in
     * PyTorch, so a group at {@code scale·lr₀} anneals from there to η_min, not to scale·η_min.
     */
    @Override
    public double unscaledPart(long t) {
        LearningRateSchedule.requireValidT(t);
        return etaMin * (1 - (1 + Math.cos(Math.PI * t / tMax)) / 2);
    }
}
