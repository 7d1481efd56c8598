package io.parallax.engine.testing;

import io.parallax.engine.loss.Loss;
import io.parallax.engine.loss.Targets;
import io.parallax.engine.random.CounterRng;
import io.parallax.engine.tensor.Tensor;
import java.util.SplittableRandom;

/**
 * A scalar function L(y) of a model's output that a {@link GradientChecker} differentiates: its
 * value is computed in double from the float32 output, its gradient dL/dy is the float32 tensor
 * fed to backward.
 */
public interface Objective {

    /** Separates the weights' random stream from any other stream seeded with the same number. */
    long OBJECTIVE_STREAM = 0x0B7EC71FEL;

    /** L(y), in double. */
    double value(Tensor output);

    /** dL/dy, a new tensor shaped like {@code output} on the same backend. */
    Tensor gradient(Tensor output);

    /**
     * L = Σ rᵢ·yᵢ with fixed random weights rᵢ ∈ [−1, 1) drawn from {@code seed}. The weights are
     * floats, so the gradient handed to backward is exactly the r that the value uses; random
     * signs keep errors in different outputs from cancelling out of the check. The seed is
     * hashed first so that r is unrelated to inputs drawn from a generator with the same seed
     * (r ∝ x would make L special, e.g. Σ x̂·x for batch norm, and hide errors).
     */
    static Objective weightedSum(long seed) {
        return new Objective() {
            @Override
            public double value(Tensor output) {
                float[] y = output.toArray();
                float[] r = weights(y.length);
                double sum = 0;
                for (int i = 0; i < y.length; i++) {
                    sum += (double) r[i] * y[i];
                }
                return sum;
            }

            @Override
            public Tensor gradient(Tensor output) {
                return Tensor.of(output.backend(), weights((int) output.size()), output.shape());
            }

            private float[] weights(int n) {
                SplittableRandom rng = new SplittableRandom(CounterRng.key(seed, OBJECTIVE_STREAM));
                float[] r = new float[n];
                for (int i = 0; i < n; i++) {
                    r[i] = (float) (2 * rng.nextDouble() - 1);
                }
                return r;
            }

            @Override
            public String toString() {
                return "Σ r·y (seed " + seed + ")";
            }
        };
    }

    /** L = the loss itself (the engine accumulates its value in double already). */
    static Objective loss(Loss loss, Targets targets) {
        return new Objective() {
            @Override
            public double value(Tensor output) {
                return loss.compute(output, targets);
            }

            @Override
            public Tensor gradient(Tensor output) {
                Tensor g = Tensor.zeros(output.backend(), output.shape());
                loss.compute(output, targets, g);
                return g;
            }

            @Override
            public String toString() {
                return loss.toString();
            }
        };
    }
}
