package io.parallax.engine.schedule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.optim.ParameterGroups;
import io.parallax.engine.optim.SGD;
import org.junit.jupiter.api.Test;

/**
 * A parameter group with its own scale follows what PyTorch's scheduler gives a group whose
 * initial rate is scale × lr₀: the same multiple of the rate, except that cosine annealing takes
 * every group to the same η_min.
 */
class GroupScaledScheduleTest {

    private static double groupRate(LearningRateSchedule s, long t, double scale) {
        return scale * s.learningRate(t) + (1 - scale) * s.unscaledPart(t);
    }

    @Test
    void cosineTakesEveryGroupToTheSameEtaMinAfterItsWarmUp() {
        double lr0 = 0.1;
        double eta = 0.05;
        long tMax = 20;
        long warmup = 3;
        LearningRateSchedule s = new CosineAnnealing(lr0, tMax, eta).withWarmup(warmup, 0.1);
        for (double scale : new double[] {0.2, 1, 3}) {
            for (long t = 0; t < 30; t++) {
                // torch: SequentialLR(LinearLR(start_factor=0.1, total_iters=3), CosineAnnealingLR(T_max=20,
                // eta_min=0.05), milestones=[3]) on a group with lr = scale × lr0
                double expected = t < warmup ? scale * lr0 * (0.1 + 0.9 * t / warmup)
                        : eta + (scale * lr0 - eta) * (1 + Math.cos(Math.PI * (t - warmup) / tMax)) / 2;
                assertEquals(expected, groupRate(s, t, scale), 1e-15, "scale " + scale + ", t " + t);
            }
        }
    }

    @Test
    void multiplicativeSchedulesScaleWhole() {
        LearningRateSchedule step = new StepDecay(0.1, 2, 0.5);
        for (long t = 0; t < 8; t++) {
            assertEquals(0, step.unscaledPart(t));
            assertEquals(0.3 * step.learningRate(t), groupRate(step, t, 0.3), 1e-17);
        }
    }

    @Test
    void theOptimizerStepsEachGroupAtItsRate() {
        // two tensors of 2: the first at a fifth of the rate
        ParameterGroups groups = ParameterGroups.builder().add("0.weight", 2).add("0.bias", 2).build()
                .withLearningRateScale(ParameterGroups.named("0.weight"), 0.2);
        Optimizer sgd = SGD.builder(0.1).build(groups);
        float[] p = new float[4];
        float[] g = {1, 1, 1, 1};
        sgd.setLearningRate(0.08, 0.03);
        sgd.step(p, g);
        float scaled = (float) -(0.2 * 0.08 + 0.8 * 0.03);
        assertArrayEquals(new float[] {scaled, scaled, -0.08f, -0.08f}, p);
    }
}
