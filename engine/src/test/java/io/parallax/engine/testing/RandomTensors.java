package io.parallax.engine.testing;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.tensor.Tensor;
import java.util.SplittableRandom;

/** Small seeded random tensors for tests: uniform, kink-free, probabilities, labels. */
public final class RandomTensors {

    private RandomTensors() {}

    /** Uniform values in [low, high). */
    public static Tensor uniform(Backend backend, SplittableRandom rng, double low, double high, int... shape) {
        Tensor t = Tensor.zeros(backend, shape);
        fillUniform(t, rng, low, high);
        return t;
    }

    /** Overwrites {@code t} with uniform values in [low, high) (e.g. a parameter view). */
    public static void fillUniform(Tensor t, SplittableRandom rng, double low, double high) {
        float[] v = new float[Math.toIntExact(t.size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (low + (high - low) * rng.nextDouble());
        }
        t.copyFrom(v);
    }

    /**
     * Values with |v| in [minAbs, maxAbs) and a random sign: inputs for piecewise functions
     * whose kink at 0 a finite difference must not straddle.
     */
    public static Tensor awayFromZero(Backend backend, SplittableRandom rng, double minAbs, double maxAbs,
                                      int... shape) {
        Tensor t = Tensor.zeros(backend, shape);
        float[] v = new float[Math.toIntExact(t.size())];
        for (int i = 0; i < v.length; i++) {
            double magnitude = minAbs + (maxAbs - minAbs) * rng.nextDouble();
            v[i] = (float) (rng.nextBoolean() ? magnitude : -magnitude);
        }
        t.copyFrom(v);
        return t;
    }

    /** Class labels uniform in [0, classes). */
    public static int[] labels(SplittableRandom rng, int count, int classes) {
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            labels[i] = rng.nextInt(classes);
        }
        return labels;
    }
}
