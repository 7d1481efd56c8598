package io.parallax.engine.clip;

import io.parallax.engine.tensor.Tensor;

/**
 * Gradient clipping, applied to the (aggregated) gradient before the optimizer step.
 *
 * <ul>
 *   <li>{@link #byGlobalNorm}: {@code torch.nn.utils.clip_grad_norm_} with the L2 norm: with
 *       n = ‖g‖₂ over the whole gradient, g ← g·c where c = max_norm/(n + 1e-6), applied only
 *       when c &lt; 1.</li>
 *   <li>{@link #byValue}: {@code torch.nn.utils.clip_grad_value_}: each element clamped to
 *       [−v, v].</li>
 *   <li>{@link #none}: nothing.</li>
 * </ul>
 * Both work on a flat gradient vector, where the global norm is one pass.
 */
public sealed interface GradientClipping {

    /**
     * Clips {@code gradient} in place and returns its L2 norm before clipping (NaN when the norm
     * was not computed).
     */
    double apply(Tensor gradient);

    /** The same on a gradient held in a heap array (the coordinator's summed gradient). */
    double apply(float[] gradient);

    static GradientClipping none() {
        return new None();
    }

    static GradientClipping byGlobalNorm(double maxNorm) {
        return new GlobalNorm(maxNorm);
    }

    static GradientClipping byValue(double clipValue) {
        return new Value(clipValue);
    }

    /** No clipping. */
    record None() implements GradientClipping {
        @Override
        public double apply(Tensor gradient) {
            return Double.NaN;
        }

        @Override
        public double apply(float[] gradient) {
            return Double.NaN;
        }
    }

    /** Rescale the whole gradient to an L2 norm of at most {@code maxNorm}. */
    record GlobalNorm(double maxNorm) implements GradientClipping {

        /** PyTorch's guard against dividing by a zero norm. */
        static final double EPS = 1e-6;

        public GlobalNorm {
            if (!(maxNorm > 0) || !Double.isFinite(maxNorm)) {
                throw new IllegalArgumentException("clipping max_norm must be > 0, got " + maxNorm);
            }
        }

        @Override
        public double apply(Tensor gradient) {
            double norm = Math.sqrt(gradient.backend().sumOfSquares(gradient));
            if (!Double.isFinite(norm)) {
                throw new ArithmeticException("gradient norm is " + norm + "; the gradient holds NaN or infinity, "
                        + "so clipping cannot make it usable");
            }
            double coefficient = maxNorm / (norm + EPS);
            if (coefficient < 1) {
                gradient.backend().scale(gradient, (float) coefficient);
            }
            return norm;
        }

        @Override
        public double apply(float[] gradient) {
            double s0 = 0;
            double s1 = 0;
            int i = 0;
            for (; i + 1 < gradient.length; i += 2) {
                s0 += (double) gradient[i] * gradient[i];
                s1 += (double) gradient[i + 1] * gradient[i + 1];
            }
            if (i < gradient.length) {
                s0 += (double) gradient[i] * gradient[i];
            }
            double norm = Math.sqrt(s0 + s1);
            if (!Double.isFinite(norm)) {
                throw new ArithmeticException("gradient norm is " + norm + "; the gradient holds NaN or infinity, "
                        + "so clipping cannot make it usable");
            }
            double coefficient = maxNorm / (norm + EPS);
            if (coefficient < 1) {
                float c = (float) coefficient;
                for (int k = 0; k < gradient.length; k++) {
                    gradient[k] *= c;
                }
            }
            return norm;
        }
    }

    /** Clamp every element to [−clipValue, clipValue]. */
    record Value(double clipValue) implements GradientClipping {
        public Value {
            if (!(clipValue > 0) || !Double.isFinite(clipValue)) {
                throw new IllegalArgumentException("clipping clip_value must be > 0, got " + clipValue);
            }
        }

        @Override
        public double apply(Tensor gradient) {
            gradient.backend().clamp(gradient, (float) -clipValue, (float) clipValue);
            return Double.NaN;
        }

        @Override
        public double apply(float[] gradient) {
            float lo = (float) -clipValue;
            float hi = (float) clipValue;
            for (int k = 0; k < gradient.length; k++) {
                gradient[k] = Math.min(Math.max(gradient[k], lo), hi);
            }
            return Double.NaN;
        }
    }
}
