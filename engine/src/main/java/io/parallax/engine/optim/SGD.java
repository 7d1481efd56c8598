package io.parallax.engine.optim;

/**
 * Stochastic gradient descent with optional momentum and Nesterov momentum, PyTorch's
 * {@code torch.optim.SGD}. With weight decay λ, momentum μ, dampening τ, learning rate γ:
 *
 * <pre>
 *   g ← ∇θ + λ·θ
 *   if μ ≠ 0:
 *       b ← g                       on the first step
 *       b ← μ·b + (1 − τ)·g         afterwards
 *       g ← g + μ·b   if nesterov,  else  g ← b
 *   θ ← θ − γ·g
 * </pre>
 *
 * Defaults as in PyTorch: momentum 0, dampening 0, weight_decay 0, nesterov false; lr has no
 * default. State: {@code momentum_buffer} (only when momentum ≠ 0).
 */
public final class SGD extends FlatOptimizer {

    private final double momentum;
    private final double dampening;
    private final double weightDecay;
    private final boolean nesterov;
    /** Index of the {@code buf} buffer in the state handed to update, or -1. */
    private final int bufSlot;

    private SGD(Builder b, ParameterGroups groups) {
        super(groups, b.lr);
        this.momentum = b.momentum;
        this.dampening = b.dampening;
        this.weightDecay = b.weightDecay;
        this.nesterov = b.nesterov;
        this.bufSlot = momentum != 0 ? buffer("momentum_buffer", 0f) : -1;
    }

    /** Starts an SGD with learning rate {@code lr} (PyTorch's required argument). */
    public static Builder builder(double lr) {
        return new Builder(lr);
    }

    /** Hyperparameters under their PyTorch names. */
    public static final class Builder {
        private final double lr;
        private double momentum;
        private double dampening;
        private double weightDecay;
        private boolean nesterov;

        private Builder(double lr) {
            this.lr = lr;
        }

        public Builder momentum(double momentum) {
            this.momentum = momentum;
            return this;
        }

        public Builder dampening(double dampening) {
            this.dampening = dampening;
            return this;
        }

        public Builder weightDecay(double weightDecay) {
            this.weightDecay = weightDecay;
            return this;
        }

        public Builder nesterov(boolean nesterov) {
            this.nesterov = nesterov;
            return this;
        }

        /** Checks the hyperparameters and allocates the state for {@code groups}. */
        public SGD build(ParameterGroups groups) {
            Hyper.learningRate(lr);
            Hyper.nonNegative("momentum", momentum);
            Hyper.unitClosed("dampening", dampening);
            Hyper.nonNegative("weight_decay", weightDecay);
            if (nesterov && (momentum <= 0 || dampening != 0)) {
                throw new IllegalArgumentException("nesterov momentum requires momentum > 0 and dampening = 0, got "
                        + "momentum=" + momentum + ", dampening=" + dampening);
            }
            return new SGD(this, groups);
        }
    }

    @Override
    void update(float[] p, float[] g, float[][] state, int from, int n, double lr, boolean decay) {
        int end = from + n;
        float[] b = bufSlot < 0 ? null : state[bufSlot];
        float wd = decay ? (float) weightDecay : 0f;
        float negLr = (float) -lr;
        if (b == null) {
            for (int i = from; i < end; i++) {
                float pi = p[i];
                float d = g[i] + wd * pi;
                p[i] = pi + negLr * d;
            }
            return;
        }
        float mu = (float) momentum;
        if (stepCount() == 1) {
            // PyTorch starts the buffer as a copy of the first (decayed) gradient, undampened
            for (int i = from; i < end; i++) {
                float pi = p[i];
                float d = g[i] + wd * pi;
                b[i] = d;
                p[i] = pi + negLr * (nesterov ? d + mu * d : d);
            }
            return;
        }
        float keep = (float) (1 - dampening);
        if (nesterov) {
            for (int i = from; i < end; i++) {
                float pi = p[i];
                float d = g[i] + wd * pi;
                float bi = b[i] * mu + keep * d;
                b[i] = bi;
                p[i] = pi + negLr * (d + mu * bi);
            }
        } else {
            for (int i = from; i < end; i++) {
                float pi = p[i];
                float d = g[i] + wd * pi;
                float bi = b[i] * mu + keep * d;
                b[i] = bi;
                p[i] = pi + negLr * bi;
            }
        }
    }

    @Override
    public String toString() {
        return "SGD(lr=" + learningRate() + ", momentum=" + momentum + ", dampening=" + dampening + ", weight_decay="
                + weightDecay + ", nesterov=" + nesterov + ")";
    }
}
