package io.parallax.engine.optim;

/**
 * Hyperparameter checks shared by the optimizers' builders. Each names the hyperparameter and
 * the rejected value ({@code "learning rate must be >= 0, got -0.1"}), so the message alone tells
 * what to fix. NaN fails every check.
 */
final class Hyper {

    private Hyper() {}

    /**
     * The learning rate: finite and >= 0. PyTorch's optimizers take 0 (a step then changes
     * nothing), so ours do, but for {@link Ftrl}, which divides by it.
     */
    static double learningRate(double lr) {
        return nonNegative("learning rate", lr);
    }

    static double positive(String name, double v) {
        if (!(v > 0)) {
            throw new IllegalArgumentException(name + " must be > 0, got " + v);
        }
        return finite(name, v);
    }

    static double nonNegative(String name, double v) {
        if (!(v >= 0)) {
            throw new IllegalArgumentException(name + " must be >= 0, got " + v);
        }
        return finite(name, v);
    }

    static double nonPositive(String name, double v) {
        if (!(v <= 0)) {
            throw new IllegalArgumentException(name + " must be <= 0, got " + v);
        }
        return finite(name, v);
    }

    /** In [0, 1): a decay rate that must leave some weight on the new value (betas). */
    static double unitOpen(String name, double v) {
        if (!(v >= 0 && v < 1)) {
            throw new IllegalArgumentException(name + " must be in [0, 1), got " + v);
        }
        return v;
    }

    /** In [0, 1]. */
    static double unitClosed(String name, double v) {
        if (!(v >= 0 && v <= 1)) {
            throw new IllegalArgumentException(name + " must be in [0, 1], got " + v);
        }
        return v;
    }

    private static double finite(String name, double v) {
        if (Double.isInfinite(v)) {
            throw new IllegalArgumentException(name + " must be finite, got " + v);
        }
        return v;
    }
}
