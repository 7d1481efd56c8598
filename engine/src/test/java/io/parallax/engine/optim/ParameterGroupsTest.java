package io.parallax.engine.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.engine.backend.Backends;
import io.parallax.engine.layer.BatchNorm1d;
import io.parallax.engine.layer.Linear;
import io.parallax.engine.layer.ReLU;
import io.parallax.engine.model.Sequential;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Per-segment learning-rate scales, weight decay switches and frozen segments. */
class ParameterGroupsTest {

    private static Sequential model() {
        return new Sequential(4, List.of(new Linear(4, 3), new BatchNorm1d(3), new ReLU(), new Linear(3, 2)),
                Backends.cpu(), 7);
    }

    @Test
    void oneSegmentPerModelTensorInFlatOrder() {
        Sequential m = model();
        m.setFrozen(0, true);
        ParameterGroups g = ParameterGroups.of(m);
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"),
                g.segments().stream().map(ParameterGroups.Segment::name).toList());
        assertEquals(m.parameterCount(), g.size());
        assertEquals(12, g.segments().get(1).offset());
        assertTrue(g.segments().get(0).frozen() && g.segments().get(1).frozen());
        assertFalse(g.segments().get(2).frozen());
        assertEquals(m.trainableParameterCount(), g.trainableSize());
    }

    @Test
    void oneDimensionalSelectsBiasesAndNormParameters() {
        ParameterGroups g = ParameterGroups.of(model()).withoutWeightDecay(ParameterGroups.oneDimensional());
        for (ParameterGroups.Segment s : g.segments()) {
            assertEquals(s.name().endsWith(".weight") && !s.name().startsWith("1."), s.weightDecay(), s.name());
        }
    }

    /** A group's scale, decay switch and freezing equal separate optimizers on each segment. */
    @Test
    void groupsEqualSeparateOptimizersPerSegment() {
        ParameterGroups g = ParameterGroups.builder().add("body", 6).add("bias", 4).add("frozen", 5).add("head", 5)
                .build()
                .withLearningRateScale(ParameterGroups.named("body"), 0.25)
                .withoutWeightDecay(ParameterGroups.named("bias"))
                .withFrozen(ParameterGroups.named("frozen"));
        Optimizer grouped = AdamW.builder().lr(0.01).weightDecay(0.1).build(g);
        Optimizer body = AdamW.builder().lr(0.0025).weightDecay(0.1).build(ParameterGroups.single(6));
        Optimizer bias = AdamW.builder().lr(0.01).weightDecay(0).build(ParameterGroups.single(4));
        Optimizer head = AdamW.builder().lr(0.01).weightDecay(0.1).build(ParameterGroups.single(5));
        float[] p = new float[20];
        for (int i = 0; i < 20; i++) {
            p[i] = (i - 10) * 0.1f;
        }
        float[] initial = p.clone();
        float[] pBody = Arrays.copyOfRange(p, 0, 6);
        float[] pBias = Arrays.copyOfRange(p, 6, 10);
        float[] pHead = Arrays.copyOfRange(p, 15, 20);
        for (int s = 0; s < 5; s++) {
            float[] grad = new float[20];
            for (int i = 0; i < 20; i++) {
                grad[i] = (float) Math.sin(0.7 * i + s);
            }
            grouped.step(p, grad);
            body.step(pBody, Arrays.copyOfRange(grad, 0, 6));
            bias.step(pBias, Arrays.copyOfRange(grad, 6, 10));
            head.step(pHead, Arrays.copyOfRange(grad, 15, 20));
        }
        assertArrayEquals(pBody, Arrays.copyOfRange(p, 0, 6));
        assertArrayEquals(pBias, Arrays.copyOfRange(p, 6, 10));
        assertArrayEquals(Arrays.copyOfRange(initial, 10, 15), Arrays.copyOfRange(p, 10, 15));
        assertArrayEquals(pHead, Arrays.copyOfRange(p, 15, 20));
        assertEquals(15, grouped.state().tensor("exp_avg").length);
    }

    /**
     * A frozen segment in front shifts state indices away from parameter indices, which sends
     * the update through the chunked host buffers; over several chunks it must still equal the
     * direct loop, on arrays and on tensors.
     */
    @Test
    void stagedPathOverManyChunksEqualsDirectLoop() {
        int n = 10_000;
        ParameterGroups shifted = ParameterGroups.builder().add("frozen", 3).add("w", n).build()
                .withFrozen(ParameterGroups.named("frozen"));
        Optimizer staged = NAdam.builder().lr(0.01).weightDecay(0.1).build(shifted);
        Optimizer stagedTensor = NAdam.builder().lr(0.01).weightDecay(0.1).build(shifted);
        Optimizer direct = NAdam.builder().lr(0.01).weightDecay(0.1).build(ParameterGroups.single(n));
        float[] p = new float[n + 3];
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) Math.cos(i);
        }
        float[] q = Arrays.copyOfRange(p, 3, n + 3);
        var cpu = Backends.cpu();
        var tp = io.parallax.engine.tensor.Tensor.of(cpu, p, p.length);
        var tg = io.parallax.engine.tensor.Tensor.zeros(cpu, p.length);
        for (int s = 0; s < 3; s++) {
            float[] g = new float[n + 3];
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) Math.sin(0.3 * i * (s + 1));
            }
            staged.step(p, g);
            tg.copyFrom(g);
            stagedTensor.step(tp, tg);
            direct.step(q, Arrays.copyOfRange(g, 3, n + 3));
        }
        GoldenTraceTest.assertArrayBits(q, Arrays.copyOfRange(p, 3, n + 3));
        GoldenTraceTest.assertArrayBits(p, tp.toArray());
        GoldenTraceTest.assertArrayBits(direct.state().tensor("exp_avg_sq"), staged.state().tensor("exp_avg_sq"));
    }

    @Test
    void modelTensorsStepInPlaceAndLearningRateIsSettable() {
        Sequential m = model();
        Optimizer opt = SGD.builder(0.5).build(ParameterGroups.of(m));
        float[] before = m.parameters().toArray();
        float[] grad = new float[before.length];
        Arrays.fill(grad, 1f);
        m.gradients().copyFrom(grad);
        opt.step(m.parameters(), m.gradients());
        opt.setLearningRate(0.25);
        opt.step(m.parameters(), m.gradients());
        float[] after = m.parameters().toArray();
        for (int i = 0; i < before.length; i++) {
            assertEquals(before[i] - 0.5f - 0.25f, after[i], 1e-6f);
        }
    }

    @Test
    void badLayoutsAreRejected() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> ParameterGroups.single(4).withLearningRateScale(s -> true, 0));
        assertEquals("learning-rate scale of segment 'all' must be > 0, got 0.0", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ParameterGroups.builder().add("x", 2, -1));
    }

    @Test
    void toStringShowsTheSettings() {
        ParameterGroups g = ParameterGroups.builder().add("0.weight", 2, 3).add("0.bias", 2).add("1.weight", 1, 2)
                .build().withoutWeightDecay(ParameterGroups.oneDimensional())
                .withLearningRateScale(ParameterGroups.layers(0), 0.5).withFrozen(ParameterGroups.layers(1));
        assertEquals("ParameterGroups[0.weight[0, 6) lr×0.5, 0.bias[6, 8) lr×0.5 no-decay, 1.weight[8, 10) frozen]",
                g.toString());
    }
}
