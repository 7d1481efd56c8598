package io.parallax.engine.gradcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.layer.BatchNorm1d;
import io.parallax.engine.layer.Dropout;
import io.parallax.engine.layer.ForwardContext;
import io.parallax.engine.layer.Layer;
import io.parallax.engine.layer.Linear;
import io.parallax.engine.layer.Softmax;
import io.parallax.engine.model.NamedTensor;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.testing.GradientChecker;
import io.parallax.engine.testing.GradientReport;
import io.parallax.engine.testing.Objective;
import io.parallax.engine.testing.RandomTensors;
import io.parallax.engine.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Finite-difference checks (in double, see {@link GradientChecker#FLOAT32} for the tolerance) of
 * the input and parameter gradients of every layer with parameters or a mode: Linear,
 * BatchNorm1d, Dropout, Softmax, each on small random inputs under several seeds. Objective:
 * L = Σ rᵢ·yᵢ with fixed random r.
 */
class LayerGradientTest {

    private final GradientChecker checker = new GradientChecker();

    /** The backend under test; a device backend's test class overrides this. */
    protected Backend backend() {
        return Backends.cpu();
    }

    private Sequential single(int in, Layer layer, long seed) {
        return new Sequential(in, List.of(layer), backend(), seed);
    }

    private static ForwardContext training(long seed) {
        return new ForwardContext(true, seed, 3, null);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void linearWithBias(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Sequential m = single(5, new Linear(5, 4), seed);
        Tensor x = RandomTensors.uniform(backend(), rng, -2, 2, 6, 5);
        GradientReport r = checker.checkModel(m, x, training(seed), Objective.weightedSum(seed)).assertPasses()
                .assertNonTrivial(1e-2);
        assertEquals(List.of("input", "0.weight", "0.bias"), r.checks().stream().map(GradientReport.TensorCheck::name)
                .toList());
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void linearWithoutBias(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Sequential m = single(3, new Linear(3, 7, false), seed);
        Tensor x = RandomTensors.uniform(backend(), rng, -2, 2, 4, 3);
        GradientReport r = checker.checkModel(m, x, training(seed), Objective.weightedSum(seed)).assertPasses()
                .assertNonTrivial(1e-2);
        assertEquals(2, r.checks().size(), r.toString());
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void batchNormTrainingAffine(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Sequential m = single(4, new BatchNorm1d(4), seed);
        randomizeAffine(m, rng);
        Tensor x = RandomTensors.uniform(backend(), rng, -2, 2, 8, 4);
        checker.checkModel(m, x, training(seed), Objective.weightedSum(seed)).assertPasses().assertNonTrivial(1e-2);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void batchNormTrainingWithoutAffine(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Sequential m = single(3, new BatchNorm1d(3, 1e-5f, 0.1f, false), seed);
        Tensor x = RandomTensors.uniform(backend(), rng, -2, 2, 5, 3);
        GradientReport r = checker.checkModel(m, x, training(seed), Objective.weightedSum(seed)).assertPasses()
                .assertNonTrivial(1e-2);
        assertEquals(1, r.checks().size(), "no parameters without affine: " + r);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void batchNormEvalAffine(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Sequential m = single(4, new BatchNorm1d(4), seed);
        randomizeAffine(m, rng);
        randomizeRunningStatistics(m, rng);
        Tensor x = RandomTensors.uniform(backend(), rng, -2, 2, 6, 4);
        checker.checkModel(m, x, ForwardContext.eval(), Objective.weightedSum(seed)).assertPasses()
                .assertNonTrivial(1e-2);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void batchNormEvalWithoutAffine(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Sequential m = single(4, new BatchNorm1d(4, 1e-3f, 0.1f, false), seed);
        randomizeRunningStatistics(m, rng);
        Tensor x = RandomTensors.uniform(backend(), rng, -2, 2, 3, 4);
        checker.checkModel(m, x, ForwardContext.eval(), Objective.weightedSum(seed)).assertPasses()
                .assertNonTrivial(1e-2);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void dropoutTrainingWithAFixedMask(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Sequential m = single(6, new Dropout(0.4f), seed);
        Tensor x = RandomTensors.uniform(backend(), rng, -2, 2, 5, 6);
        ForwardContext context = training(seed);
        checker.checkModel(m, x, context, Objective.weightedSum(seed)).assertPasses().assertNonTrivial(1e-2);
        // the check must have seen a real mask: some elements dropped (zero gradient), some kept
        // and scaled by 1/(1 − p)
        float[] dx = GradientChecker.inputGradient(m, x, context, Objective.weightedSum(seed));
        float[] r = Objective.weightedSum(seed).gradient(x).toArray();
        int dropped = 0;
        for (int i = 0; i < dx.length; i++) {
            if (dx[i] == 0f) {
                dropped++;
            } else {
                assertEquals(r[i] / 0.6f, dx[i], 1e-6f, "kept element " + i);
            }
        }
        assertTrue(dropped > 0 && dropped < dx.length, dropped + " of " + dx.length + " dropped");
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void dropoutEvalIsTheIdentity(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Sequential m = single(6, new Dropout(0.4f), seed);
        Tensor x = RandomTensors.uniform(backend(), rng, -2, 2, 5, 6);
        checker.checkModel(m, x, ForwardContext.eval(), Objective.weightedSum(seed)).assertPasses()
                .assertNonTrivial(1e-2);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void softmax(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Sequential m = single(4, new Softmax(), seed);
        Tensor x = RandomTensors.uniform(backend(), rng, -2, 2, 5, 4);
        checker.checkModel(m, x, training(seed), Objective.weightedSum(seed)).assertPasses().assertNonTrivial(1e-2);
    }

    /** γ and β away from their 1/0 start, so a wrong use of either shows. */
    private static void randomizeAffine(Sequential m, SplittableRandom rng) {
        for (NamedTensor p : m.namedParameters()) {
            if (p.name().endsWith("weight")) {
                RandomTensors.fillUniform(p.tensor(), rng, 0.5, 1.5);
            } else {
                RandomTensors.fillUniform(p.tensor(), rng, -0.5, 0.5);
            }
        }
    }

    /** Running statistics away from 0/1, so eval mode does not reduce to the identity. */
    private static void randomizeRunningStatistics(Sequential m, SplittableRandom rng) {
        for (NamedTensor b : m.namedBuffers()) {
            if (b.name().endsWith("running_mean")) {
                RandomTensors.fillUniform(b.tensor(), rng, -0.5, 0.5);
            } else {
                RandomTensors.fillUniform(b.tensor(), rng, 0.5, 2.0);
            }
        }
    }
}
