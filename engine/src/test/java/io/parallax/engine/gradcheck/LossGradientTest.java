package io.parallax.engine.gradcheck;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.loss.BinaryCrossEntropyLoss;
import io.parallax.engine.loss.BinaryCrossEntropyWithLogitsLoss;
import io.parallax.engine.loss.CrossEntropyLoss;
import io.parallax.engine.loss.Loss.Reduction;
import io.parallax.engine.loss.MeanSquaredErrorLoss;
import io.parallax.engine.loss.Targets;
import io.parallax.engine.testing.GradientChecker;
import io.parallax.engine.testing.RandomTensors;
import io.parallax.engine.tensor.Tensor;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Finite-difference checks of dL/d(output) for every loss under both reductions and three
 * seeds. The engine sums each loss in double, so these run with the tighter
 * {@link GradientChecker#LOSS} settings.
 */
class LossGradientTest {

    private final GradientChecker checker = new GradientChecker(GradientChecker.LOSS);

    protected Backend backend() {
        return Backends.cpu();
    }

    static Stream<Arguments> cases() {
        return Stream.of(Reduction.values()).flatMap(r -> Stream.of(1L, 2L, 3L).map(s -> Arguments.of(r, s)));
    }

    @ParameterizedTest(name = "{0}, seed {1}")
    @MethodSource("cases")
    void crossEntropy(Reduction reduction, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor logits = RandomTensors.uniform(backend(), rng, -3, 3, 5, 4);
        Targets labels = Targets.classes(RandomTensors.labels(rng, 5, 4));
        checker.checkLoss(new CrossEntropyLoss(reduction), logits, labels).assertPasses().assertNonTrivial(1e-2);
    }

    @ParameterizedTest(name = "{0}, seed {1}")
    @MethodSource("cases")
    void binaryCrossEntropyWithLogits(Reduction reduction, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor logits = RandomTensors.uniform(backend(), rng, -4, 4, 6, 3);
        BinaryCrossEntropyWithLogitsLoss loss = new BinaryCrossEntropyWithLogitsLoss(reduction);
        checker.checkLoss(loss, logits, Targets.values(hardTargets(rng, 6, 3))).assertPasses()
                .assertNonTrivial(1e-2);
        checker.checkLoss(loss, logits, Targets.values(RandomTensors.uniform(backend(), rng, 0, 1, 6, 3)))
                .assertPasses().assertNonTrivial(1e-2);
    }

    @ParameterizedTest(name = "{0}, seed {1}")
    @MethodSource("cases")
    void binaryCrossEntropyOnProbabilities(Reduction reduction, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        // away from 0 and 1, where the loss's clamp at −100 would make the slope flat
        Tensor p = RandomTensors.uniform(backend(), rng, 0.05, 0.95, 6, 3);
        BinaryCrossEntropyLoss loss = new BinaryCrossEntropyLoss(reduction);
        checker.checkLoss(loss, p, Targets.values(hardTargets(rng, 6, 3))).assertPasses().assertNonTrivial(1e-2);
        checker.checkLoss(loss, p, Targets.values(RandomTensors.uniform(backend(), rng, 0, 1, 6, 3)))
                .assertPasses().assertNonTrivial(1e-2);
    }

    @ParameterizedTest(name = "{0}, seed {1}")
    @MethodSource("cases")
    void meanSquaredError(Reduction reduction, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor y = RandomTensors.uniform(backend(), rng, -2, 2, 4, 3);
        Tensor t = RandomTensors.uniform(backend(), rng, -2, 2, 4, 3);
        checker.checkLoss(new MeanSquaredErrorLoss(reduction), y, Targets.values(t)).assertPasses()
                .assertNonTrivial(1e-2);
    }

    private Tensor hardTargets(SplittableRandom rng, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextBoolean() ? 1f : 0f;
        }
        return Tensor.of(backend(), v, rows, cols);
    }
}
