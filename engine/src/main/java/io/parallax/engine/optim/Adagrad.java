package io.parallax.engine.optim;

/**
 * Adagrad (Duchi et al., 2011), PyTorch's {@code torch.optim.Adagrad}. With learning rate γ,
 * lr_decay η, weight decay λ, eps ε, step t:
 *
 * <pre>
 *   g ← ∇θ + λ·θ
 *   γₜ ← γ / (1 + (t − 1)·η)
 *   s ← s + g²                      (s starts at initial_accumulator_value)
 *   θ ← θ − γₜ · g / (√s + ε)
 * </pre>
 *
 * Defaults as in PyTorch: lr 1e-2, lr_decay 0, weight_decay 0, initial_accumulator_value 0,
 * eps 1e-10. State: {@code sum}.
 */
public final class Adagrad extends FlatOptimizer {

    private final double lrDecay;
    private final double weightDecay;
    private final double initialAccumulatorValue;
    private final double eps;
    /** Index of the {@code sum} buffer in the state handed to update, or -1. */
    private final int sumSlot;

    private Adagrad(Builder b, ParameterGroups groups) {
        super(groups, b.lr);
        this.lrDecay = b.lrDecay;
        this.weightDecay = b.weightDecay;
        this.initialAccumulatorValue = b.initialAccumulatorValue;
        this.eps = b.eps;
        this.sumSlot = buffer("sum", (float) initialAccumulatorValue);
    }

    /** Starts an Adagrad with PyTorch's defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Hyperparameters under their PyTorch names. */
    public static final class Builder {
        private double lr = 1e-2;
        private double lrDecay;
        private double weightDecay;
        private double initialAccumulatorValue;
        private double eps = 1e-10;

        private Builder() {}

        public Builder lr(double lr) {
            this.lr = lr;
            return this;
        }

        public Builder lrDecay(double lrDecay) {
            this.lrDecay = lrDecay;
            return this;
        }

        public Builder weightDecay(double weightDecay) {
            this.weightDecay = weightDecay;
            return this;
        }

        public Builder initialAccumulatorValue(double value) {
            this.initialAccumulatorValue = value;
            return this;
        }

        public Builder eps(double eps) {
            this.eps = eps;
            return this;
        }

        /** Checks the hyperparameters and allocates the state for {@code groups}. */
        public Adagrad build(ParameterGroups groups) {
            Hyper.learningRate(lr);
            Hyper.nonNegative("lr_decay", lrDecay);
            Hyper.nonNegative("weight_decay", weightDecay);
            Hyper.nonNegative("initial_accumulator_value", initialAccumulatorValue);
            Hyper.positive("eps", eps);
            return new Adagrad(this, groups);
        }
    }

    @Override
    void update(float[] p, float[] g, float[][] state, int from, int n, double lr, boolean decay) {
        int end = from + n;
        float[] s = state[sumSlot];
        float wd = decay ? (float) weightDecay : 0f;
        float negClr = (float) -(lr / (1 + (stepCount() - 1) * lrDecay));
        float e = (float) eps;
        for (int i = from; i < end; i++) {
            float pi = p[i];
            float gi = g[i] + wd * pi;
            float si = s[i] + gi * gi;
            s[i] = si;
            p[i] = pi + negClr * gi / ((float) Math.sqrt(si) + e);
        }
    }

    @Override
    public String toString() {
        return "Adagrad(lr=" + learningRate() + ", lr_decay=" + lrDecay + ", weight_decay=" + weightDecay
                + ", initial_accumulator_value=" + initialAccumulatorValue + ", eps=" + eps + ")";
    }
}
