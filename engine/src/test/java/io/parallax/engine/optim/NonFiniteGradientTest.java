package io.parallax.engine.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.engine.backend.Backends;
import io.parallax.engine.tensor.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** A NaN or infinite gradient stops the step before anything changes, or is skipped and counted. */
class NonFiniteGradientTest {

    private static final ParameterGroups GROUPS = ParameterGroups.builder().add("0.weight", 3, 4).add("0.bias", 3)
            .add("1.weight", 1, 3).build();

    private static float[] ones(int n) {
        float[] a = new float[n];
        Arrays.fill(a, 1f);
        return a;
    }

    @Test
    void nanStopsTheStepAndNamesTheElement() {
        Optimizer opt = Adam.builder().build(GROUPS);
        float[] p = ones(18);
        float[] g = ones(18);
        opt.step(p, g);
        float[] before = p.clone();
        OptimizerState stateBefore = opt.state();
        g[13] = Float.NaN;
        NonFiniteGradientException e = assertThrows(NonFiniteGradientException.class, () -> opt.step(p, g));
        assertEquals("gradient holds NaN at flat index 13 (segment '0.bias', element 1 of 3); the step was not "
                + "applied. Check the loss and learning rate, clip gradients, or enable skipping of non-finite steps",
                e.getMessage());
        assertEquals(13, e.index());
        assertEquals("0.bias", e.segment());
        assertArrayEquals(before, p);
        assertEquals(1, opt.stepCount());
        assertArrayEquals(stateBefore.tensor("exp_avg"), opt.state().tensor("exp_avg"));
    }

    @Test
    void infinityInTheLastSegmentIsFoundToo() {
        Optimizer opt = SGD.builder(0.1).build(GROUPS);
        float[] g = ones(18);
        g[17] = Float.NEGATIVE_INFINITY;
        NonFiniteGradientException e = assertThrows(NonFiniteGradientException.class, () -> opt.step(ones(18), g));
        assertEquals("1.weight", e.segment());
        assertEquals(Float.NEGATIVE_INFINITY, e.value());
    }

    @Test
    void skippingCountsAndLeavesEverythingAlone() {
        Optimizer opt = RMSprop.builder().momentum(0.9).build(GROUPS);
        opt.setSkipNonFiniteSteps(true);
        float[] p = ones(18);
        float[] g = ones(18);
        assertTrue(opt.step(p, g));
        float[] before = p.clone();
        g[2] = Float.POSITIVE_INFINITY;
        assertFalse(opt.step(p, g));
        assertFalse(opt.step(p, g));
        assertArrayEquals(before, p);
        assertEquals(1, opt.stepCount());
        assertEquals(2, opt.skippedSteps());
        g[2] = 1f;
        assertTrue(opt.step(p, g));
        assertEquals(2, opt.stepCount());
    }

    @Test
    void tensorPathChecksBeforeWriting() {
        var cpu = Backends.cpu();
        Optimizer opt = Adam.builder().build(GROUPS);
        Tensor p = Tensor.of(cpu, ones(18), 18);
        float[] g = ones(18);
        g[16] = Float.NaN;
        Tensor tg = Tensor.of(cpu, g, 18);
        NonFiniteGradientException e = assertThrows(NonFiniteGradientException.class, () -> opt.step(p, tg));
        assertEquals(16, e.index());
        assertArrayEquals(ones(18), p.toArray());
        assertEquals(0, opt.stepCount());
    }

    @Test
    void frozenSegmentsAreNotChecked() {
        Optimizer opt = SGD.builder(0.1).build(GROUPS.withFrozen(ParameterGroups.layers(0)));
        float[] p = ones(18);
        float[] g = ones(18);
        g[0] = Float.NaN;
        assertTrue(opt.step(p, g));
        assertEquals(1f, p[0]);
        assertEquals(0.9f, p[15]);
    }

    @Test
    void wrongLengthsAreRejected() {
        Optimizer opt = SGD.builder(0.1).build(GROUPS);
        var e = assertThrows(IllegalArgumentException.class, () -> opt.step(ones(17), ones(18)));
        assertEquals("parameter vector has 17 elements but the optimizer's layout has 18", e.getMessage());
    }
}
