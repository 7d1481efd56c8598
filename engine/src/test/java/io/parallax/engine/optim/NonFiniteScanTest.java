package io.parallax.engine.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.parallax.engine.backend.Backends;
import io.parallax.engine.tensor.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The gradient checks of both step paths find the first NaN or ±∞ at every position: the
 * sixteen-at-a-time scan of the {@code float[]} path in its blocks, at block edges and in the
 * tail, and the backend check of the tensor path on segments long enough for its native branch.
 */
class NonFiniteScanTest {

    private static final float[] BAD = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};

    /** The element loop the scan must agree with. */
    private static int naive(float[] g, int from, int n) {
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(g[from + i])) {
                return i;
            }
        }
        return -1;
    }

    private static float[] finite(int n) {
        float[] g = new float[n];
        for (int i = 0; i < n; i++) {
            // large, tiny, negative and zero values: all finite, none may trip the check
            g[i] = switch (i % 4) {
                case 0 -> Float.MAX_VALUE;
                case 1 -> -Float.MIN_VALUE;
                case 2 -> -3.5f * i;
                default -> 0f;
            };
        }
        return g;
    }

    @Test
    void scanFindsTheFirstBadElementAnywhere() {
        for (int from = 0; from < 3; from++) {
            for (int n = 0; n <= 70; n++) {
                float[] g = finite(from + n + 2);
                assertEquals(-1, FlatOptimizer.firstNonFinite(g, from, n), "all finite, from " + from + ", n " + n);
                for (int at = 0; at < n; at++) {
                    for (float bad : BAD) {
                        float[] h = g.clone();
                        h[from + at] = bad;
                        if (at + 5 < n) {
                            h[from + at + 5] = Float.NaN; // a later one must not win
                        }
                        assertEquals(at, FlatOptimizer.firstNonFinite(h, from, n),
                                bad + " at " + at + ", from " + from + ", n " + n);
                        assertEquals(naive(h, from, n), FlatOptimizer.firstNonFinite(h, from, n));
                    }
                }
                // outside the range does not count
                float[] h = g.clone();
                h[from + n] = Float.NaN;
                assertEquals(-1, FlatOptimizer.firstNonFinite(h, from, n));
            }
        }
    }

    @Test
    void tensorPathNamesTheElementInLongSegments() {
        var cpu = Backends.cpu();
        ParameterGroups groups = ParameterGroups.builder().add("0.weight", 40, 50).add("0.bias", 40).build();
        for (int at : new int[] {0, 999, 1999, 2000, 2017, 2039}) {
            Optimizer opt = SGD.builder(0.1).momentum(0.9).build(groups);
            float[] g = finite(2040);
            g[at] = Float.POSITIVE_INFINITY;
            Tensor p = Tensor.of(cpu, new float[2040], 2040);
            NonFiniteGradientException e = assertThrows(NonFiniteGradientException.class,
                    () -> opt.step(p, Tensor.of(cpu, g, 2040)));
            assertEquals(at, e.index());
            assertEquals(at < 2000 ? "0.weight" : "0.bias", e.segment());
            assertEquals(Float.POSITIVE_INFINITY, e.value());
            assertArrayEquals(new float[2040], p.toArray());
            assertEquals(0, opt.stepCount());
        }
    }

    @Test
    void finiteGradientsOfHugeMagnitudeStillStep() {
        // Σ|g| overflows float, which the backend check reports only as "maybe": it must then
        // look element by element and let the step through
        var cpu = Backends.cpu();
        float[] g = new float[4096];
        Arrays.fill(g, 1e38f);
        Optimizer onTensors = SGD.builder(1e-40).build(ParameterGroups.single(4096));
        Optimizer onArrays = SGD.builder(1e-40).build(ParameterGroups.single(4096));
        Tensor p = Tensor.zeros(cpu, 4096);
        onTensors.step(p, Tensor.of(cpu, g, 4096));
        float[] q = new float[4096];
        onArrays.step(q, g);
        assertEquals(1, onTensors.stepCount());
        assertArrayEquals(q, p.toArray());
    }
}
