package io.parallax.engine.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** N steps, export, import into a fresh optimizer, M steps equals N+M steps, bit for bit. */
class StateResumeTest {

    private static final GoldenCases GOLDEN = GoldenCases.load();
    private static final int SPLIT = 4;

    static List<GoldenCases.Case> cases() {
        return GOLDEN.cases;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void splitRunEqualsStraightRun(GoldenCases.Case c) {
        Optimizer straight = c.build();
        float[] p = GOLDEN.params0.clone();
        for (float[] g : GOLDEN.grads) {
            straight.step(p, g);
        }

        Optimizer first = c.build();
        float[] q = GOLDEN.params0.clone();
        for (int s = 0; s < SPLIT; s++) {
            first.step(q, GOLDEN.grads[s]);
        }
        OptimizerState saved = first.state();
        float[] savedWeights = q.clone();
        // what the first optimizer does afterwards must not leak into the export
        first.step(q, GOLDEN.grads[SPLIT]);

        Optimizer resumed = c.build();
        resumed.loadState(saved);
        assertEquals(SPLIT, resumed.stepCount());
        for (int s = SPLIT; s < GOLDEN.grads.length; s++) {
            resumed.step(savedWeights, GOLDEN.grads[s]);
        }
        GoldenTraceTest.assertArrayBits(p, savedWeights);
        assertEquals(straight.stepCount(), resumed.stepCount());
    }

    @Test
    void stateCarriesLearningRateCountersAndScalars() {
        NAdam opt = NAdam.builder().lr(0.01).build(ParameterGroups.single(20));
        opt.setSkipNonFiniteSteps(true);
        float[] p = GOLDEN.params0.clone();
        opt.step(p, GOLDEN.grads[0]);
        float[] bad = GOLDEN.grads[1].clone();
        bad[3] = Float.NaN;
        opt.step(p, bad);
        opt.setLearningRate(0.005);
        OptimizerState s = opt.state();
        assertEquals("NAdam", s.optimizer());
        assertEquals(1L, s.counters().get("step"));
        assertEquals(1L, s.counters().get("skipped_steps"));
        assertEquals(0.005, s.scalars().get("lr"));
        assertTrue(s.scalars().get("mu_product") < 1.0);
        assertEquals(List.of("exp_avg", "exp_avg_sq"), List.copyOf(s.tensors().keySet()));
        assertEquals(20, s.tensor("exp_avg").length);

        NAdam other = NAdam.builder().lr(0.01).build(ParameterGroups.single(20));
        other.loadState(s);
        assertEquals(0.005, other.learningRate());
        assertEquals(1, other.skippedSteps());
    }

    @Test
    void frozenSegmentsHaveNoState() {
        ParameterGroups groups = ParameterGroups.builder().add("body", 12).add("head", 8).build()
                .withFrozen(ParameterGroups.named("body"));
        OptimizerState s = Adam.builder().amsgrad(true).build(groups).state();
        for (float[] t : s.tensors().values()) {
            assertEquals(8, t.length);
        }
        assertEquals(3, s.tensors().size());
    }

    @Test
    void mismatchedStateIsRejectedWithTheReason() {
        ParameterGroups groups = ParameterGroups.single(20);
        OptimizerState adam = Adam.builder().build(groups).state();
        var e = assertThrows(IllegalArgumentException.class, () -> AdamW.builder().build(groups).loadState(adam));
        assertTrue(e.getMessage().contains("Adam cannot be loaded into a AdamW"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> Adam.builder().amsgrad(true).build(groups).loadState(adam));
        assertTrue(e.getMessage().contains("max_exp_avg_sq"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> Adam.builder().build(ParameterGroups.single(21)).loadState(adam));
        assertTrue(e.getMessage().contains("has 20 elements but this layout has 21"), e.getMessage());

        Map<String, Long> noStep = new HashMap<>(adam.counters());
        noStep.remove("step");
        OptimizerState broken = new OptimizerState("Adam", adam.tensors(), noStep, adam.scalars());
        assertThrows(IllegalArgumentException.class, () -> Adam.builder().build(groups).loadState(broken));
    }

    @Test
    void exportIsACopy() {
        Adagrad opt = Adagrad.builder().build(ParameterGroups.single(20));
        OptimizerState before = opt.state();
        opt.step(GOLDEN.params0.clone(), GOLDEN.grads[0]);
        assertEquals(0f, before.tensor("sum")[0]);
        assertNotEquals(0f, opt.state().tensor("sum")[0]);
    }
}
