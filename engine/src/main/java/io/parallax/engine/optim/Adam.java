package io.parallax.engine.optim;

/**
 * Adam (Kingma &amp; Ba, 2015) with optional AMSGrad, PyTorch's {@code torch.optim.Adam}. With
 * learning rate γ, betas (β₁, β₂), eps ε, weight decay λ (L2, added to the gradient), step t:
 *
 * <pre>
 *   g ← ∇θ + λ·θ
 *   m ← β₁·m + (1 − β₁)·g
 *   v ← β₂·v + (1 − β₂)·g²
 *   v̂ ← max(v̂, v)   if amsgrad, and use v̂ for v below
 *   θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 * </pre>
 *
 * Defaults as in PyTorch: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0, amsgrad false.
 * State: {@code exp_avg}, {@code exp_avg_sq}, and {@code max_exp_avg_sq} with amsgrad.
 * See {@link AdamW} for decoupled weight decay.
 */
public final class Adam extends FlatOptimizer {

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

    private Adam(Builder b, ParameterGroups groups) {
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

    /** Starts an Adam with PyTorch's defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Hyperparameters under their PyTorch names. */
    public static final class Builder {
        private double lr = 1e-3;
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double eps = 1e-8;
        private double weightDecay;
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
        public Adam build(ParameterGroups groups) {
            checkAdam(lr, beta1, beta2, eps, weightDecay);
            return new Adam(this, groups);
        }
    }

    static void checkAdam(double lr, double beta1, double beta2, double eps, double weightDecay) {
        Hyper.learningRate(lr);
        Hyper.unitOpen("betas[0]", beta1);
        Hyper.unitOpen("betas[1]", beta2);
        Hyper.positive("eps", eps);
        Hyper.nonNegative("weight_decay", weightDecay);
    }

    @Override
    void beginStep(long t) {
        biasCorrection1 = 1 - Math.pow(beta1, t);
        biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
    }

    @Override
    void update(float[] p, float[] g, float[][] state, int from, int n, double lr, boolean decay) {
        float[] vMax = vMaxSlot < 0 ? null : state[vMaxSlot];
        moments(p, g, state[mSlot], state[vSlot], vMax, from, n, decay ? (float) weightDecay : 0f, 1f, beta1, beta2,
                eps, lr / biasCorrection1, biasCorrection2Sqrt);
    }

    /**
     * The Adam loop shared with {@link AdamW}: moments, optional AMSGrad maximum and the
     * parameter update, in PyTorch's float32 operation order. {@code wd} is L2 decay added to the
     * gradient (Adam), {@code shrink} a factor applied to the weights first (AdamW; 1 is exact).
     */
    static void moments(float[] p, float[] g, float[] m, float[] v, float[] vMax, int from, int n, float wd,
            float shrink, double beta1, double beta2, double eps, double stepSize, double bc2Sqrt) {
        float b1 = (float) beta1;
        float a1 = (float) (1 - beta1);
        float b2 = (float) beta2;
        float a2 = (float) (1 - beta2);
        float e = (float) eps;
        float bc2 = (float) bc2Sqrt;
        float negStep = (float) -stepSize;
        int end = from + n;
        if (vMax == null) {
            for (int i = from; i < end; i++) {
                float pi = p[i] * shrink;
                float gi = g[i] + wd * pi;
                float mi = m[i] * b1 + a1 * gi;
                float vi = v[i] * b2 + a2 * gi * gi;
                m[i] = mi;
                v[i] = vi;
                p[i] = pi + negStep * mi / ((float) Math.sqrt(vi) / bc2 + e);
            }
        } else {
            for (int i = from; i < end; i++) {
                float pi = p[i] * shrink;
                float gi = g[i] + wd * pi;
                float mi = m[i] * b1 + a1 * gi;
                float vi = v[i] * b2 + a2 * gi * gi;
                float vm = Math.max(vMax[i], vi);
                m[i] = mi;
                v[i] = vi;
                vMax[i] = vm;
                p[i] = pi + negStep * mi / ((float) Math.sqrt(vm) / bc2 + e);
            }
        }
    }

    @Override
    public String toString() {
        return "Adam(lr=" + learningRate() + ", betas=(" + beta1 + ", " + beta2 + "), eps=" + eps + ", weight_decay="
                + weightDecay + ", amsgrad=" + amsgrad + ")";
    }
}
