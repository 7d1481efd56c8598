package io.parallax.engine.schedule;

/**
 * Linear warm-up in front of any schedule: for t &lt; w, lr(t) = lr_inner(0)·(s + (1 − s)·t/w),
 * ramping from s·lr₀ towards lr₀ as {@code torch.optim.lr_scheduler.LinearLR(start_factor=s,
 * total_iters=w)} does; from t = w on, lr(t) = lr_inner(t − w), so the inner schedule starts
 * after the warm-up.
 */
public record LinearWarmup(LearningRateSchedule inner, long warmupSteps, double startFactor)
        implements LearningRateSchedule {

    public LinearWarmup {
        if (inner == null) {
            throw new IllegalArgumentException("warm-up needs a schedule to warm up to");
        }
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("warm-up steps must be ≥ 0, got " + warmupSteps);
        }
        if (!(startFactor > 0 && startFactor <= 1)) {
            throw new IllegalArgumentException("warm-up start_factor must be in (0, 1], got " + startFactor);
        }
    }

    @Override
    public double learningRate(long t) {
        LearningRateSchedule.requireValidT(t);
        if (t < warmupSteps) {
            return inner.initialLearningRate() * (startFactor + (1 - startFactor) * t / warmupSteps);
        }
        return inner.learningRate(t - warmupSteps);
    }

    /** None during the warm-up (it multiplies each group's own rate); the inner schedule's after. */
    @Override
    public double unscaledPart(long t) {
        LearningRateSchedule.requireValidT(t);
        return t < warmupSteps ? 0 : inner.unscaledPart(t - warmupSteps);
    }
}
