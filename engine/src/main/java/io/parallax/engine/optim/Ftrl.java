package io.parallax.engine.optim;

/**
 * FTRL-Proximal (McMahan et al., 2013) as Keras computes it ({@code tf.keras.optimizers.Ftrl});
 * PyTorch has no FTRL. Per element, with learning rate α, learning_rate_power p (≤ 0),
 * l1 λ₁, l2 λ₂, l2_shrinkage λₛ, beta β, accumulator n (starts at initial_accumulator_value)
 * and linear term z (starts at 0):
 *
 * <pre>
 *   g̃ ← g + 2·λₛ·w                              (shrinkage; the accumulator uses the raw g)
 *   n' ← n + g²
 *   σ ← (n'^(−p) − n^(−p)) / α
 *   z ← z + g̃ − σ·w
 *   q ← n'^(−p)/α + 2·(λ₂ + β/(2α))   =  (β + n'^(−p))/α + 2·λ₂
 *   w ← (clip(z, −λ₁, λ₁) − z) / q    =  (sgn(z)·λ₁ − z)/q  if |z| > λ₁,  else exactly 0
 *   n ← n'
 * </pre>
 *
 * With p = −0.5, n^(−p) is √n. This is Keras' implementation (its {@code update_step}, the same
 * arithmetic as TensorFlow's {@code ApplyFtrlV2} kernel). Keras' docstring writes the
 * denominator as {@code (beta + sqrt(n))/alpha + lambda_2}: the implementation adds 2·λ₂
 * because it treats λ₂ as the coefficient of λ₂·w² (whose gradient is 2·λ₂·w); we follow the
 * implementation so our weights equal Keras'. With λ₁ &gt; 0 every weight whose |z| ≤ λ₁ becomes
 * exactly 0 (sparsity).
 *
 * <p>A segment with weight decay switched off ({@link ParameterGroups#withoutWeightDecay}) uses
 * λ₁ = λ₂ = λₛ = 0 (β stays: it is part of the per-coordinate rate). Defaults as in Keras:
 * learning_rate 1e-3, learning_rate_power −0.5, initial_accumulator_value 0.1, l1, l2,
 * l2_shrinkage and beta 0. State: {@code accumulator} (n) and {@code linear} (z).
 */
public final class Ftrl extends FlatOptimizer {

    private final double learningRatePower;
    private final double initialAccumulatorValue;
    private final double l1;
    private final double l2;
    private final double l2Shrinkage;
    private final double beta;
    /** Index of the {@code accumulator} buffer in the state handed to update, or -1. */
    private final int accumulatorSlot;
    /** Index of the {@code linear} buffer in the state handed to update, or -1. */
    private final int linearSlot;

    private Ftrl(Builder b, ParameterGroups groups) {
        super(groups, b.learningRate);
        this.learningRatePower = b.learningRatePower;
        this.initialAccumulatorValue = b.initialAccumulatorValue;
        this.l1 = b.l1;
        this.l2 = b.l2;
        this.l2Shrinkage = b.l2Shrinkage;
        this.beta = b.beta;
        this.accumulatorSlot = buffer("accumulator", (float) initialAccumulatorValue);
        this.linearSlot = buffer("linear", 0f);
    }

    /** Starts an FTRL with Keras' defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Hyperparameters under their Keras names. */
    public static final class Builder {
        private double learningRate = 1e-3;
        private double learningRatePower = -0.5;
        private double initialAccumulatorValue = 0.1;
        private double l1;
        private double l2;
        private double l2Shrinkage;
        private double beta;

        private Builder() {}

        public Builder learningRate(double learningRate) {
            this.learningRate = learningRate;
            return this;
        }

        public Builder learningRatePower(double power) {
            this.learningRatePower = power;
            return this;
        }

        public Builder initialAccumulatorValue(double value) {
            this.initialAccumulatorValue = value;
            return this;
        }

        public Builder l1RegularizationStrength(double l1) {
            this.l1 = l1;
            return this;
        }

        public Builder l2RegularizationStrength(double l2) {
            this.l2 = l2;
            return this;
        }

        public Builder l2ShrinkageRegularizationStrength(double l2Shrinkage) {
            this.l2Shrinkage = l2Shrinkage;
            return this;
        }

        public Builder beta(double beta) {
            this.beta = beta;
            return this;
        }

        /** Checks the hyperparameters and allocates the state for {@code groups}. */
        public Ftrl build(ParameterGroups groups) {
            // its update divides by the rate, so 0 is refused here as when a schedule reaches it
            if (learningRate == 0) {
                throw new IllegalArgumentException("learning rate must be > 0 for ftrl, whose update divides by it, "
                        + "got 0.0");
            }
            Hyper.positive("learning rate", learningRate);
            Hyper.nonPositive("learning_rate_power", learningRatePower);
            Hyper.nonNegative("initial_accumulator_value", initialAccumulatorValue);
            Hyper.nonNegative("l1_regularization_strength", l1);
            Hyper.nonNegative("l2_regularization_strength", l2);
            Hyper.nonNegative("l2_shrinkage_regularization_strength", l2Shrinkage);
            Hyper.nonNegative("beta", beta);
            return new Ftrl(this, groups);
        }
    }

    @Override
    void requireZeroLearningRateAllowed() {
        throw new IllegalArgumentException("ftrl divides by the learning rate, and a schedule brought it to 0: keep it "
                + "> 0 (cosine annealing: eta_min > 0, or a t_max past the run's end)");
    }

    @Override
    void update(float[] p, float[] g, float[][] state, int from, int n, double lr, boolean decay) {
        int end = from + n;
        float[] acc = state[accumulatorSlot];
        float[] z = state[linearSlot];
        float alpha = (float) lr;
        float lam1 = decay ? (float) l1 : 0f;
        float twoShrink = decay ? 2 * (float) l2Shrinkage : 0f;
        // Keras folds beta into l2 as l2 + beta/(2·lr), in float32
        float twoL2 = 2 * ((decay ? (float) l2 : 0f) + (float) beta / (2 * alpha));
        if (learningRatePower == -0.5) {
            for (int i = from; i < end; i++) {
                float w = p[i];
                float gi = g[i];
                float ai = acc[i];
                float an = ai + gi * gi;
                float sqrtNew = (float) Math.sqrt(an);
                float zi = z[i] + ((gi + twoShrink * w) - (sqrtNew - (float) Math.sqrt(ai)) / alpha * w);
                float q = sqrtNew / alpha + twoL2;
                z[i] = zi;
                acc[i] = an;
                p[i] = (Math.max(-lam1, Math.min(zi, lam1)) - zi) / q;
            }
        } else {
            double negPower = -learningRatePower;
            for (int i = from; i < end; i++) {
                float w = p[i];
                float gi = g[i];
                float ai = acc[i];
                float an = ai + gi * gi;
                float powNew = (float) Math.pow(an, negPower);
                float zi = z[i] + ((gi + twoShrink * w) - (powNew - (float) Math.pow(ai, negPower)) / alpha * w);
                float q = powNew / alpha + twoL2;
                z[i] = zi;
                acc[i] = an;
                p[i] = (Math.max(-lam1, Math.min(zi, lam1)) - zi) / q;
            }
        }
    }

    @Override
    public String toString() {
        return "Ftrl(learning_rate=" + learningRate() + ", learning_rate_power=" + learningRatePower
                + ", initial_accumulator_value=" + initialAccumulatorValue + ", l1_regularization_strength=" + l1
                + ", l2_regularization_strength=" + l2 + ", l2_shrinkage_regularization_strength=" + l2Shrinkage
                + ", beta=" + beta + ")";
    }
}
