package io.parallax.engine.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.parallax.engine.concurrent.RangeRunner;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Optimizer#step(float[], float[], RangeRunner)} gives the serial step's result bit for
 * bit, for every optimizer configuration of the golden traces, on a layout long enough to be
 * split, with segments of odd lengths, learning-rate scales, no-decay and frozen segments.
 */
class ParallelStepTest {

    private static final GoldenCases GOLDEN = GoldenCases.load();
    private static final int STEPS = 3;
    private static RangeRunner runner;

    @BeforeAll
    static void start() {
        runner = RangeRunner.of(3, "parallel-step-test");
    }

    @AfterAll
    static void stop() {
        runner.close();
    }

    static List<GoldenCases.Case> cases() {
        return GOLDEN.cases;
    }

    /** Five segments, 130,050 elements, with a scaled and a no-decay segment. */
    private static ParameterGroups layout(Predicate<ParameterGroups.Segment> frozen) {
        return ParameterGroups.builder().add("w0", 70_001).add("b0", 33).add("w1", 500, 100).add("b1", 17)
                .add("w2", 9_999).build()
                .withLearningRateScale(ParameterGroups.named("w1"), 0.5)
                .withoutWeightDecay(ParameterGroups.named("b0", "b1"))
                .withFrozen(frozen);
    }

    private static final Map<String, float[][]> VECTORS = new java.util.concurrent.ConcurrentHashMap<>();

    /** {@code count} Gaussian vectors of length {@code n}, made once per argument set. */
    private static float[][] vectors(int n, long seed, int count) {
        float[][] made = VECTORS.computeIfAbsent(n + "/" + seed + "/" + count, key -> gaussian(n, seed, count));
        float[][] copy = new float[count][];
        for (int i = 0; i < count; i++) {
            copy[i] = made[i].clone();
        }
        return copy;
    }

    private static float[][] gaussian(int n, long seed, int count) {
        SplittableRandom random = new SplittableRandom(seed);
        float[][] out = new float[count][n];
        for (float[] v : out) {
            for (int i = 0; i < n; i++) {
                v[i] = (float) random.nextGaussian();
            }
        }
        return out;
    }

    private static void assertSameSteps(GoldenCases.Case c, ParameterGroups groups) {
        Optimizer serial = GoldenCases.build(c.json().get("optimizer").asText(), c.json().get("hyper"), groups);
        Optimizer parallel = GoldenCases.build(c.json().get("optimizer").asText(), c.json().get("hyper"), groups);
        float[] p = vectors(groups.size(), 1, 1)[0];
        float[] q = p.clone();
        float[][] grads = vectors(groups.size(), 2, STEPS);
        for (float[] g : grads) {
            float[] before = g.clone();
            serial.step(p, g);
            parallel.step(q, g, runner);
            assertArrayEquals(before, g, "the gradient is left unchanged");
            assertBits(p, q);
        }
        assertEquals(serial.stepCount(), parallel.stepCount());
        Map<String, float[]> a = serial.state().tensors();
        Map<String, float[]> b = parallel.state().tensors();
        assertEquals(a.keySet(), b.keySet());
        for (String name : a.keySet()) {
            assertBits(a.get(name), b.get(name));
        }
    }

    /** Bit-equal arrays; the per-element assertion (which names the element) only on a mismatch. */
    private static void assertBits(float[] expected, float[] actual) {
        boolean same = expected.length == actual.length;
        for (int i = 0; same && i < expected.length; i++) {
            same = Float.floatToRawIntBits(expected[i]) == Float.floatToRawIntBits(actual[i]);
        }
        if (!same) {
            GoldenTraceTest.assertArrayBits(expected, actual);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void splitStepEqualsSerialStep(GoldenCases.Case c) {
        assertSameSteps(c, layout(s -> false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void frozenTailSplitsAndFrozenHeadStepsSerially(GoldenCases.Case c) {
        assertSameSteps(c, layout(ParameterGroups.named("w2")));
        assertSameSteps(c, layout(ParameterGroups.named("w0")));
    }

    @Test
    void nonFiniteGradientThrowsBeforeAnythingChanges() {
        ParameterGroups groups = layout(s -> false);
        Optimizer opt = Adam.builder().build(groups);
        float[] p = vectors(groups.size(), 3, 1)[0];
        float[] before = p.clone();
        float[] g = vectors(groups.size(), 4, 1)[0];
        g[100_000] = Float.NaN;
        NonFiniteGradientException e = assertThrows(NonFiniteGradientException.class, () -> opt.step(p, g, runner));
        assertEquals(100_000, e.index());
        assertArrayEquals(before, p);
        assertEquals(0, opt.stepCount());
    }

    @Test
    void nonFiniteGradientInAFrozenSegmentIsIgnored() {
        ParameterGroups groups = layout(ParameterGroups.named("w2"));
        Optimizer serial = Adam.builder().build(groups);
        Optimizer parallel = Adam.builder().build(groups);
        float[] p = vectors(groups.size(), 5, 1)[0];
        float[] q = p.clone();
        float[] g = vectors(groups.size(), 6, 1)[0];
        g[groups.size() - 1] = Float.POSITIVE_INFINITY;
        serial.step(p, g);
        parallel.step(q, g, runner);
        assertBits(p, q);
        assertEquals(1, parallel.stepCount());
    }

    @Test
    void skippedStepIsCountedOnce() {
        ParameterGroups groups = layout(s -> false);
        Optimizer opt = Adam.builder().build(groups);
        opt.setSkipNonFiniteSteps(true);
        float[] p = vectors(groups.size(), 7, 1)[0];
        float[] before = p.clone();
        float[] g = vectors(groups.size(), 8, 1)[0];
        g[5] = Float.NaN;
        g[129_000] = Float.NaN;
        assertFalse(opt.step(p, g, runner));
        assertArrayEquals(before, p);
        assertEquals(1, opt.skippedSteps());
        assertEquals(0, opt.stepCount());
    }
}
