package io.parallax.engine.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.parallax.engine.backend.Backends;
import io.parallax.engine.tensor.Tensor;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every optimizer against {@code torch.optim} 1.13 (FTRL against Keras' update in numpy): the
 * parameters after each of 10 steps on fixed gradients, from {@code golden.json}.
 *
 * <p>Tolerance: 1e-6 relative plus 1e-7 absolute. Both sides compute in float32 in the same
 * operation order, but PyTorch's AVX kernels fuse some multiply-adds (an FMA rounds once where
 * Java rounds twice), so single elements may differ by an ulp or two (1.2e-7 relative each),
 * and that can compound over 10 steps. The absolute floor covers elements that pass near zero
 * (FTRL weights, decayed values) where a relative bound means nothing; it is below one ulp of
 * any parameter of magnitude ≥ 1 and far below the per-step movement of every trace.
 */
class GoldenTraceTest {

    private static final double RELATIVE = 1e-6;
    private static final double ABSOLUTE = 1e-7;

    private static final GoldenCases GOLDEN = GoldenCases.load();

    static List<GoldenCases.Case> cases() {
        return GOLDEN.cases;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesReferenceAfterEveryStep(GoldenCases.Case c) {
        Optimizer opt = c.build();
        float[] p = GOLDEN.params0.clone();
        for (int s = 0; s < GOLDEN.grads.length; s++) {
            assertTrue(opt.step(p, GOLDEN.grads[s].clone()));
            assertClose(c, s, c.trace()[s], p);
            // the check can fail: every step moves some parameter by far more than the tolerance
            float[] before = s == 0 ? GOLDEN.params0 : c.trace()[s - 1];
            assertTrue(maxChange(before, c.trace()[s]) > 100 * (RELATIVE + ABSOLUTE), c.name() + " step " + (s + 1));
        }
        assertEquals(GOLDEN.grads.length, opt.stepCount());
    }

    /** The tensor path (chunked host copies) gives exactly the array path's result. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void tensorPathEqualsArrayPath(GoldenCases.Case c) {
        Optimizer arrays = c.build();
        Optimizer tensors = c.build();
        float[] p = GOLDEN.params0.clone();
        var cpu = Backends.cpu();
        Tensor tp = Tensor.of(cpu, GOLDEN.params0, p.length);
        Tensor tg = Tensor.zeros(cpu, p.length);
        for (float[] g : GOLDEN.grads) {
            arrays.step(p, g);
            tg.copyFrom(g);
            tensors.step(tp, tg);
        }
        assertArrayBits(p, tp.toArray());
    }

    @Test
    void coversEveryOptimizerAndMainOption() {
        Set<String> kinds = new TreeSet<>();
        Set<String> names = new TreeSet<>();
        for (GoldenCases.Case c : GOLDEN.cases) {
            kinds.add(c.json().get("optimizer").asText());
            names.add(c.name());
        }
        assertEquals(Set.of("SGD", "Adam", "AdamW", "Adagrad", "Adadelta", "RMSprop", "Adamax", "NAdam", "Ftrl"),
                kinds);
        for (String n : List.of("sgd_momentum", "sgd_nesterov", "sgd_weight_decay", "adam_amsgrad",
                "adam_weight_decay", "rmsprop_centered", "rmsprop_momentum", "ftrl_l1_sparse", "adam_groups")) {
            assertTrue(names.contains(n), "golden.json lacks case " + n);
        }
    }

    /** With l1 > 0 FTRL sets weights to exactly 0, and the reference agrees which ones. */
    @Test
    void ftrlL1GivesExactZeros() {
        GoldenCases.Case c = GOLDEN.cases.stream().filter(k -> k.name().equals("ftrl_l1_sparse")).findFirst()
                .orElseThrow();
        Optimizer opt = c.build();
        float[] p = GOLDEN.params0.clone();
        for (float[] g : GOLDEN.grads) {
            opt.step(p, g);
        }
        float[] expected = c.trace()[c.trace().length - 1];
        int zeros = 0;
        for (int i = 0; i < p.length; i++) {
            assertEquals(expected[i] == 0f, p[i] == 0f, "element " + i + ": " + p[i] + " vs " + expected[i]);
            zeros += p[i] == 0f ? 1 : 0;
        }
        assertTrue(zeros > 1 && zeros < p.length, "expected some but not all weights at 0, got " + zeros);
    }

    private static double maxChange(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }

    private static void assertClose(GoldenCases.Case c, int step, float[] expected, float[] actual) {
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs((double) expected[i] - actual[i]);
            if (!(diff <= RELATIVE * Math.abs(expected[i]) + ABSOLUTE)) {
                fail(c.name() + ": after step " + (step + 1) + " element " + i + " is " + actual[i] + ", torch "
                        + expected[i] + " (diff " + diff + ")");
            }
        }
    }

    static void assertArrayBits(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                    "element " + i + ": " + actual[i] + " vs " + expected[i]);
        }
    }
}
