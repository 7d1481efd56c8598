package io.parallax.engine.optim;

/**
 * Adamax, Adam's infinity-norm variant (Kingma &amp; Ba, 2015, §7), PyTorch's
 * {@code torch.optim.Adamax}. With learning rate γ, betas (β₁, β₂), eps ε, weight decay λ,
 * step t:
 *
 * <pre>
 *   g ← ∇θ + λ·θ
 *   m ← β₁·m + (1 − β₁)·g
 *   u ← max(β₂·u, |g| + ε)
 *   θ ← θ − (γ / (1 − β₁ᵗ)) · m / u
 * </pre>
 *
 * Defaults as in PyTorch: lr 2e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0. State:
 * {@code exp_avg} (m) and {@code exp_inf} (u).
 */
public final class Adamax extends FlatOptimizer {

    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    /** Index of the {@code m} buffer in the state handed to update, or -1. */
    private final int mSlot;
    /** Index of the {@code u} buffer in the state handed to update, or -1. */
    private final int uSlot;
    private double biasCorrection;

    private Adamax(Builder b, ParameterGroups groups) {
        super(groups, b.lr);
        this.beta1 = b.beta1;
        this.beta2 = b.beta2;
        this.eps = b.eps;
        this.weightDecay = b.weightDecay;
        this.mSlot = buffer("exp_avg", 0f);
        this.uSlot = buffer("exp_inf", 0f);
    }

    /** Starts an Adamax with PyTorch's defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Hyperparameters under their PyTorch names. */
    public static final class Builder {
        private double lr = 2e-3;
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double eps = 1e-8;
        private double weightDecay;

        private Builder() {}

        public Builder lr(double lr) {
            this.lr = lr;
            return this;
        }

        public Builder betas(double beta1, double beta2) {
            this.beta1 = beta1;
            this.beta2 = beta2;
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
        public Adamax build(ParameterGroups groups) {
            Adam.checkAdam(lr, beta1, beta2, eps, weightDecay);
            return new Adamax(this, groups);
        }
    }

    @Override
    void beginStep(long t) {
        biasCorrection = 1 - Math.pow(beta1, t);
    }

    @Override
    void update(float[] p, float[] g, float[][] state, int from, int n, double lr, boolean decay) {
        int end = from + n;
        float[] m = state[mSlot];
        float[] u = state[uSlot];
        float wd = decay ? (float) weightDecay : 0f;
        float b1 = (float) beta1;
        float a1 = (float) (1 - beta1);
        float b2 = (float) beta2;
        float e = (float) eps;
        float negClr = (float) -(lr / biasCorrection);
        for (int i = from; i < end; i++) {
            float pi = p[i];
            float gi = g[i] + wd * pi;
            float mi = m[i] * b1 + a1 * gi;
            float ui = Math.max(u[i] * b2, Math.abs(gi) + e);
            m[i] = mi;
            u[i] = ui;
            p[i] = pi + negClr * mi / ui;
        }
    }

    @Override
    public String toString() {
        return "Adamax(lr=" + learningRate() + ", betas=(" + beta1 + ", " + beta2 + "), eps=" + eps
                + ", weight_decay=" + weightDecay + ")";
    }
}
