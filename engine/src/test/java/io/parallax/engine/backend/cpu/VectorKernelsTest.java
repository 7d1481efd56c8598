package io.parallax.engine.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * fill, axpy, scale, multiply and clamp, which run on heap chunks, against plain scalar loops,
 * bit for bit, on lengths around the chunk size and on views that start inside their storage.
 */
class VectorKernelsTest {

    private final Backend cpu = Backends.cpu();

    /** A vector view starting 5 floats into a larger storage, values in [−2, 2), one NaN. */
    private Tensor randomView(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] all = new float[n + 9];
        for (int i = 0; i < all.length; i++) {
            all[i] = (float) (4 * random.nextDouble() - 2);
        }
        all[5 + n / 3] = Float.NaN;
        return Tensor.of(cpu, all, all.length).view(5, n);
    }

    /** The storage around a view: what lies outside must not change. */
    private static float[] whole(Tensor view) {
        return Tensor.wrap(view.storage()).toArray();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 2047, 2048, 2049, 5000})
    void fillWritesOnlyTheView(int n) {
        Tensor t = randomView(n, 1);
        float[] expected = whole(t);
        java.util.Arrays.fill(expected, 5, 5 + n, 0.75f);
        cpu.fill(t, 0.75f);
        assertArrayEquals(expected, whole(t));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 2047, 2048, 2049, 5000})
    void axpyMatchesTheScalarLoop(int n) {
        Tensor x = randomView(n, 2);
        Tensor y = randomView(n, 3);
        float alpha = -0.37f;
        float[] xs = x.toArray();
        float[] expected = whole(y);
        for (int i = 0; i < n; i++) {
            expected[5 + i] = expected[5 + i] + alpha * xs[i];
        }
        cpu.axpy(alpha, x, y);
        assertArrayEquals(expected, whole(y));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2049, 5000})
    void axpyOntoItselfDoublesWithAlphaOne(int n) {
        Tensor y = randomView(n, 4);
        float[] expected = whole(y);
        for (int i = 0; i < n; i++) {
            expected[5 + i] = expected[5 + i] + expected[5 + i];
        }
        cpu.axpy(1f, y, y);
        assertArrayEquals(expected, whole(y));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 2047, 2048, 2049, 5000})
    void scaleMatchesTheScalarLoopAndZeroOverwritesNaN(int n) {
        Tensor t = randomView(n, 5);
        float[] expected = whole(t);
        for (int i = 0; i < n; i++) {
            expected[5 + i] = expected[5 + i] * 1.5f;
        }
        cpu.scale(t, 1.5f);
        assertArrayEquals(expected, whole(t));
        java.util.Arrays.fill(expected, 5, 5 + n, 0f);
        cpu.scale(t, 0f);
        assertArrayEquals(expected, whole(t));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 2047, 2048, 2049, 5000})
    void multiplyMatchesTheScalarLoop(int n) {
        Tensor a = randomView(n, 6);
        Tensor b = randomView(n, 7);
        Tensor out = randomView(n, 8);
        float[] as = a.toArray();
        float[] bs = b.toArray();
        float[] expected = whole(out);
        for (int i = 0; i < n; i++) {
            expected[5 + i] = as[i] * bs[i];
        }
        cpu.multiply(a, b, out);
        assertArrayEquals(expected, whole(out));
        // in place: a = a ⊙ b
        cpu.multiply(a, b, a);
        assertArrayEquals(out.toArray(), a.toArray());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 2047, 2048, 2049, 5000})
    void clampMatchesTheScalarLoopAndKeepsNaN(int n) {
        Tensor t = randomView(n, 9);
        float[] expected = whole(t);
        for (int i = 0; i < n; i++) {
            expected[5 + i] = Math.min(Math.max(expected[5 + i], -0.5f), 1f);
        }
        cpu.clamp(t, -0.5f, 1f);
        assertArrayEquals(expected, whole(t));
    }
}
