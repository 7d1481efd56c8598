package io.parallax.engine.schedule;

/**
 * The learning rate as a function of a counter t = 0, 1, 2, … A trainer steps it per epoch or
 * per optimizer step (its choice, see {@link Granularity}) and hands the value to the optimizer.
 * Schedules are pure functions of t, so resuming at step t needs nothing but t.
 */
public interface LearningRateSchedule {

    /** Whether t counts epochs or optimizer steps. */
    enum Granularity { EPOCH, STEP }

    /** The learning rate at t (t ≥ 0). */
    double learningRate(long t);

    /**
     * The part of the rate at t that a parameter group's scale does not multiply. A group whose
     * base rate is {@code scale} × the job's trains at
     * {@code scale·learningRate(t) + (1 − scale)·unscaledPart(t)}, which is what PyTorch's
     * scheduler gives a parameter group whose own initial rate is {@code scale·lr₀}. Zero for the
     * schedules that multiply the rate; cosine annealing's η_min is the exception.
     */
    default double unscaledPart(long t) {
        return 0;
    }

    /** The rate at t = 0, which warm-up ramps towards. */
    default double initialLearningRate() {
        return learningRate(0);
    }

    /** This schedule behind a linear warm-up of {@code steps} counts; see {@link LinearWarmup}. */
    default LearningRateSchedule withWarmup(long steps, double startFactor) {
        return new LinearWarmup(this, steps, startFactor);
    }

    /** Fails unless t ≥ 0. */
    static void requireValidT(long t) {
        if (t < 0) {
            throw new IllegalArgumentException("schedule counter t must be ≥ 0, got " + t);
        }
    }

    /** Fails unless the learning rate is finite and >= 0 (PyTorch's optimizers take 0). */
    static double requireLearningRate(double lr) {
        if (!(lr >= 0) || !Double.isFinite(lr)) {
            throw new IllegalArgumentException("learning rate must be >= 0, got " + lr);
        }
        return lr;
    }

    /** Fails unless value is finite and > 0. */
    static double requirePositive(String name, double value) {
        if (!(value > 0) || !Double.isFinite(value)) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
        return value;
    }
}
