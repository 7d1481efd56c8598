package io.parallax.engine.optim;

/**
 * Adadelta (Zeiler, 2012), PyTorch's {@code torch.optim.Adadelta}. With learning rate γ,
 * rho ρ, eps ε, weight decay λ:
 *
 * <pre>
 *   g ← ∇θ + λ·θ
 *   v ← ρ·v + (1 − ρ)·g²
 *   Δ ← √(u + ε) / √(v + ε) · g
 *   u ← ρ·u + (1 − ρ)·Δ²
 *   θ ← θ − γ·Δ
 * </pre>
 *
 * Defaults as in PyTorch: lr 1.0, rho 0.9, eps 1e-6, weight_decay 0. State: {@code square_avg}
 * (v) and {@code acc_delta} (u).
 */
public final class Adadelta extends FlatOptimizer {

    private final double rho;
    private final double eps;
    private final double weightDecay;
    /** Index of the {@code squareAvg} buffer in the state handed to update, or -1. */
    private final int squareAvgSlot;
    /** Index of the {@code accDelta} buffer in the state handed to update, or -1. */
    private final int accDeltaSlot;

    private Adadelta(Builder b, ParameterGroups groups) {
        super(groups, b.lr);
        this.rho = b.rho;
        this.eps = b.eps;
        this.weightDecay = b.weightDecay;
        this.squareAvgSlot = buffer("square_avg", 0f);
        this.accDeltaSlot = buffer("acc_delta", 0f);
    }

    /** Starts an Adadelta with PyTorch's defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Hyperparameters under their PyTorch names. */
    public static final class Builder {
        private double lr = 1.0;
        private double rho = 0.9;
        private double eps = 1e-6;
        private double weightDecay;

        private Builder() {}

        public Builder lr(double lr) {
            this.lr = lr;
            return this;
        }

        public Builder rho(double rho) {
            this.rho = rho;
            return this;
        }

        public Builder eps(double eps) {
            this.eps = eps;
            return this;
        }

        public Builder weightDecay(double weightDecay) {
            this.weightDecay = weightDecay;
            return this;
        }

        /** Checks the hyperparameters and allocates the state for {@code groups}. */
        public Adadelta build(ParameterGroups groups) {
            Hyper.learningRate(lr);
            Hyper.unitClosed("rho", rho);
            Hyper.positive("eps", eps);
            Hyper.nonNegative("weight_decay", weightDecay);
            return new Adadelta(this, groups);
        }
    }

    @Override
    void update(float[] p, float[] g, float[][] state, int from, int n, double lr, boolean decay) {
        int end = from + n;
        float[] v = state[squareAvgSlot];
        float[] u = state[accDeltaSlot];
        float wd = decay ? (float) weightDecay : 0f;
        float r = (float) rho;
        float a = (float) (1 - rho);
        float e = (float) eps;
        float negLr = (float) -lr;
        for (int i = from; i < end; i++) {
            float pi = p[i];
            float ui = u[i];
            float gi = g[i] + wd * pi;
            float vi = v[i] * r + a * gi * gi;
            float std = (float) Math.sqrt(vi + e);
            float delta = (float) Math.sqrt(ui + e) / std * gi;
            v[i] = vi;
            u[i] = ui * r + a * delta * delta;
            p[i] = pi + negLr * delta;
        }
    }

    @Override
    public String toString() {
        return "Adadelta(lr=" + learningRate() + ", rho=" + rho + ", eps=" + eps + ", weight_decay=" + weightDecay
                + ")";
    }
}
