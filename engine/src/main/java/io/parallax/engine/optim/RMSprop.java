package io.parallax.engine.optim;

/**
 * RMSprop (Hinton, 2012), PyTorch's {@code torch.optim.RMSprop}, optionally centred and with
 * momentum. With learning rate γ, alpha α, eps ε, weight decay λ, momentum μ:
 *
 * <pre>
 *   g ← ∇θ + λ·θ
 *   v ← α·v + (1 − α)·g²
 *   if centered:  ḡ ← α·ḡ + (1 − α)·g;   d ← √(v − ḡ²) + ε
 *   else:         d ← √v + ε
 *   if μ > 0:     b ← μ·b + g / d;   θ ← θ − γ·b
 *   else:         θ ← θ − γ·g / d
 * </pre>
 *
 * Defaults as in PyTorch: lr 1e-2, alpha 0.99, eps 1e-8, weight_decay 0, momentum 0,
 * centered false. State: {@code square_avg}, {@code grad_avg} (centered),
 * {@code momentum_buffer} (momentum &gt; 0).
 */
public final class RMSprop extends FlatOptimizer {

    private final double alpha;
    private final double eps;
    private final double weightDecay;
    private final double momentum;
    private final boolean centered;
    /** Index of the {@code squareAvg} buffer in the state handed to update, or -1. */
    private final int squareAvgSlot;
    /** Index of the {@code gradAvg} buffer in the state handed to update, or -1. */
    private final int gradAvgSlot;
    /** Index of the {@code buf} buffer in the state handed to update, or -1. */
    private final int bufSlot;

    private RMSprop(Builder b, ParameterGroups groups) {
        super(groups, b.lr);
        this.alpha = b.alpha;
        this.eps = b.eps;
        this.weightDecay = b.weightDecay;
        this.momentum = b.momentum;
        this.centered = b.centered;
        this.squareAvgSlot = buffer("square_avg", 0f);
        this.bufSlot = momentum > 0 ? buffer("momentum_buffer", 0f) : -1;
        this.gradAvgSlot = centered ? buffer("grad_avg", 0f) : -1;
    }

    /** Starts an RMSprop with PyTorch's defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Hyperparameters under their PyTorch names. */
    public static final class Builder {
        private double lr = 1e-2;
        private double alpha = 0.99;
        private double eps = 1e-8;
        private double weightDecay;
        private double momentum;
        private boolean centered;

        private Builder() {}

        public Builder lr(double lr) {
            this.lr = lr;
            return this;
        }

        public Builder alpha(double alpha) {
            this.alpha = alpha;
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

        public Builder momentum(double momentum) {
            this.momentum = momentum;
            return this;
        }

        public Builder centered(boolean centered) {
            this.centered = centered;
            return this;
        }

        /** Checks the hyperparameters and allocates the state for {@code groups}. */
        public RMSprop build(ParameterGroups groups) {
            Hyper.learningRate(lr);
            Hyper.unitClosed("alpha", alpha);
            Hyper.positive("eps", eps);
            Hyper.nonNegative("weight_decay", weightDecay);
            Hyper.nonNegative("momentum", momentum);
            return new RMSprop(this, groups);
        }
    }

    @Override
    void update(float[] p, float[] g, float[][] state, int from, int n, double lr, boolean decay) {
        int end = from + n;
        float[] v = state[squareAvgSlot];
        float[] b = bufSlot < 0 ? null : state[bufSlot];
        float[] ga = gradAvgSlot < 0 ? null : state[gradAvgSlot];
        float wd = decay ? (float) weightDecay : 0f;
        float al = (float) alpha;
        float a1 = (float) (1 - alpha);
        float e = (float) eps;
        float negLr = (float) -lr;
        float mu = (float) momentum;
        // four loops rather than branches inside one: each stays a straight vectorisable body
        if (!centered && b == null) {
            for (int i = from; i < end; i++) {
                float pi = p[i];
                float gi = g[i] + wd * pi;
                float vi = v[i] * al + a1 * gi * gi;
                v[i] = vi;
                p[i] = pi + negLr * gi / ((float) Math.sqrt(vi) + e);
            }
        } else if (!centered) {
            for (int i = from; i < end; i++) {
                float pi = p[i];
                float gi = g[i] + wd * pi;
                float vi = v[i] * al + a1 * gi * gi;
                float bi = b[i] * mu + gi / ((float) Math.sqrt(vi) + e);
                v[i] = vi;
                b[i] = bi;
                p[i] = pi + negLr * bi;
            }
        } else if (b == null) {
            for (int i = from; i < end; i++) {
                float pi = p[i];
                float gi = g[i] + wd * pi;
                float vi = v[i] * al + a1 * gi * gi;
                float gai = ga[i] * al + a1 * gi;
                v[i] = vi;
                ga[i] = gai;
                p[i] = pi + negLr * gi / ((float) Math.sqrt(vi + -1f * gai * gai) + e);
            }
        } else {
            for (int i = from; i < end; i++) {
                float pi = p[i];
                float gi = g[i] + wd * pi;
                float vi = v[i] * al + a1 * gi * gi;
                float gai = ga[i] * al + a1 * gi;
                float bi = b[i] * mu + gi / ((float) Math.sqrt(vi + -1f * gai * gai) + e);
                v[i] = vi;
                ga[i] = gai;
                b[i] = bi;
                p[i] = pi + negLr * bi;
            }
        }
    }

    @Override
    public String toString() {
        return "RMSprop(lr=" + learningRate() + ", alpha=" + alpha + ", eps=" + eps + ", weight_decay=" + weightDecay
                + ", momentum=" + momentum + ", centered=" + centered + ")";
    }
}
