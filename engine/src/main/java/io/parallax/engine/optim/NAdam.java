package io.parallax.engine.optim;

import java.util.Map;

/**
 * Adam with Nesterov momentum (Dozat, 2016), PyTorch's {@code torch.optim.NAdam}, including its
 * momentum schedule. With learning rate γ, betas (β₁, β₂), eps ε, weight decay λ,
 * momentum_decay ψ, step t:
 *
 * <pre>
 *   g ← ∇θ + λ·θ
 *   μₜ ← β₁·(1 − ½·0.96^(t·ψ)),   μₜ₊₁ ← β₁·(1 − ½·0.96^((t+1)·ψ))
 *   Π ← Π·μₜ                       (Π = mu_product, starts at 1)
 *   m ← β₁·m + (1 − β₁)·g
 *   v ← β₂·v + (1 − β₂)·g²
 *   d ← √(v / (1 − β₂ᵗ)) + ε
 *   θ ← θ − γ·(1 − μₜ)/(1 − Π) · g / d − γ·μₜ₊₁/(1 − Π·μₜ₊₁) · m / d
 * </pre>
 *
 * Like PyTorch, Π is kept in float32; Π·μₜ₊₁ is taken in double from it, as PyTorch ≥ 2.0
 * does (torch 1.13's default single-tensor path counted μₜ twice there, pytorch#92699).
 * Defaults as in PyTorch: lr 2e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0, momentum_decay
 * 4e-3. State: {@code exp_avg}, {@code exp_avg_sq}, and the scalar {@code mu_product}.
 */
public final class NAdam extends FlatOptimizer {

    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final double momentumDecay;
    /** Index of the {@code m} buffer in the state handed to update, or -1. */
    private final int mSlot;
    /** Index of the {@code v} buffer in the state handed to update, or -1. */
    private final int vSlot;
    private float muProduct = 1f;
    private double mu;
    private double muNext;
    private double muProductNext;
    private double biasCorrection2;

    private NAdam(Builder b, ParameterGroups groups) {
        super(groups, b.lr);
        this.beta1 = b.beta1;
        this.beta2 = b.beta2;
        this.eps = b.eps;
        this.weightDecay = b.weightDecay;
        this.momentumDecay = b.momentumDecay;
        this.mSlot = buffer("exp_avg", 0f);
        this.vSlot = buffer("exp_avg_sq", 0f);
    }

    /** Starts an NAdam with PyTorch's defaults. */
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
        private double momentumDecay = 4e-3;

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

        public Builder momentumDecay(double momentumDecay) {
            this.momentumDecay = momentumDecay;
            return this;
        }

        /** Checks the hyperparameters and allocates the state for {@code groups}. */
        public NAdam build(ParameterGroups groups) {
            Adam.checkAdam(lr, beta1, beta2, eps, weightDecay);
            Hyper.nonNegative("momentum_decay", momentumDecay);
            return new NAdam(this, groups);
        }
    }

    @Override
    void beginStep(long t) {
        biasCorrection2 = 1 - Math.pow(beta2, t);
        mu = beta1 * (1 - 0.5 * Math.pow(0.96, t * momentumDecay));
        muNext = beta1 * (1 - 0.5 * Math.pow(0.96, (t + 1) * momentumDecay));
        // float32 products, as PyTorch's 0-dim mu_product tensor
        muProduct = muProduct * (float) mu;
        // Π·μₜ₊₁ as documented (and as PyTorch ≥ 2.0 and 1.13's foreach path compute it, from the
        // float32 Π in double); 1.13's single-tensor path counted μₜ twice (pytorch#92699)
        muProductNext = (double) muProduct * muNext;
    }

    @Override
    void update(float[] p, float[] g, float[][] state, int from, int n, double lr, boolean decay) {
        int end = from + n;
        float[] m = state[mSlot];
        float[] v = state[vSlot];
        float wd = decay ? (float) weightDecay : 0f;
        float b1 = (float) beta1;
        float a1 = (float) (1 - beta1);
        float b2 = (float) beta2;
        float a2 = (float) (1 - beta2);
        float e = (float) eps;
        float bc2 = (float) biasCorrection2;
        float gradStep = (float) (-lr * (1 - mu) / (1 - (double) muProduct));
        float momentStep = (float) (-lr * muNext / (1 - muProductNext));
        for (int i = from; i < end; i++) {
            float pi = p[i];
            float gi = g[i] + wd * pi;
            float mi = m[i] * b1 + a1 * gi;
            float vi = v[i] * b2 + a2 * gi * gi;
            float d = (float) Math.sqrt(vi / bc2) + e;
            m[i] = mi;
            v[i] = vi;
            float q = pi + gradStep * gi / d;
            p[i] = q + momentStep * mi / d;
        }
    }

    @Override
    Map<String, Double> scalarState() {
        return Map.of("mu_product", (double) muProduct);
    }

    @Override
    void loadScalarState(Map<String, Double> scalars) {
        muProduct = scalars.get("mu_product").floatValue();
    }

    @Override
    public String toString() {
        return "NAdam(lr=" + learningRate() + ", betas=(" + beta1 + ", " + beta2 + "), eps=" + eps + ", weight_decay="
                + weightDecay + ", momentum_decay=" + momentumDecay + ")";
    }
}
