package io.parallax.engine.optim;

/**
 * Adam with decoupled weight decay (Loshchilov &amp; Hutter, 2019), PyTorch's
 * {@code torch.optim.AdamW}. The decay shrinks the weights directly instead of entering the
 * gradient, so it is not rescaled by the adaptive denominator:
 *
 * <pre>
 *   θ ← θ · (1 − γ·λ)
 *   m ← β₁·m + (1 − β₁)·g
 *   v ← β₂·v + (1 − β₂)·g²
 *   v̂ ← max(v̂, v)   if amsgrad, and use v̂ for v below
 *   θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 * </pre>
 *
 * Defaults as in PyTorch: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2,
 * amsgrad false. State: {@code exp_avg}, {@code exp_avg_sq}, and {@code max_exp_avg_sq} with
 * amsgrad.
 */
public final class AdamW extends FlatOptimizer {

    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final boolean amsgrad;
    /** Index of the {@code m} buffer in the state handed to update, or -1. */
    private final int mSlot;
    /** Index of the {@code v} buffer in the state handed to update, or -1. */
    private final int vSlot;
    /** Index of the {@code vMax} buffer in the state handed to update, or -1. */
    private final int vMaxSlot;
    private double biasCorrection1;
    private double biasCorrection2Sqrt;

    private AdamW(Builder b, ParameterGroups groups) {
        super(groups, b.lr);
        this.beta1 = b.beta1;
        this.beta2 = b.beta2;
        this.eps = b.eps;
        this.weightDecay = b.weightDecay;
        this.amsgrad = b.amsgrad;
        this.mSlot = buffer("exp_avg", 0f);
        this.vSlot = buffer("exp_avg_sq", 0f);
        this.vMaxSlot = amsgrad ? buffer("max_exp_avg_sq", 0f) : -1;
    }

    /** Starts an AdamW with PyTorch's defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Hyperparameters under their PyTorch names. */
    public static final class Builder {
        private double lr = 1e-3;
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double eps = 1e-8;
        private double weightDecay = 1e-2;
        private boolean amsgrad;

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

        public Builder amsgrad(boolean amsgrad) {
            this.amsgrad = amsgrad;
            return this;
        }

        /** Checks the hyperparameters and allocates the state for {@code groups}. */
        public AdamW build(ParameterGroups groups) {
            Adam.checkAdam(lr, beta1, beta2, eps, weightDecay);
            return new AdamW(this, groups);
        }
    }

    @Override
    void beginStep(long t) {
        biasCorrection1 = 1 - Math.pow(beta1, t);
        biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
    }

    @Override
    void update(float[] p, float[] g, float[][] state, int from, int n, double lr, boolean decay) {
        float[] vMax = vMaxSlot < 0 ? null : state[vMaxSlot];
        float shrink = decay ? (float) (1 - lr * weightDecay) : 1f;
        Adam.moments(p, g, state[mSlot], state[vSlot], vMax, from, n, 0f, shrink, beta1, beta2, eps,
                lr / biasCorrection1, biasCorrection2Sqrt);
    }

    @Override
    public String toString() {
        return "AdamW(lr=" + learningRate() + ", betas=(" + beta1 + ", " + beta2 + "), eps=" + eps + ", weight_decay="
                + weightDecay + ", amsgrad=" + amsgrad + ")";
    }
}
