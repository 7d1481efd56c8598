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
import io.parallax.engine.layer.Sigmoid;
import io.parallax.engine.layer.Tanh;
import io.parallax.engine.loss.BinaryCrossEntropyWithLogitsLoss;
import io.parallax.engine.loss.CrossEntropyLoss;
import io.parallax.engine.loss.Loss;
import io.parallax.engine.loss.MeanSquaredErrorLoss;
import io.parallax.engine.loss.Targets;
import io.parallax.engine.model.NamedTensor;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.testing.GradientChecker;
import io.parallax.engine.testing.GradientReport;
import io.parallax.engine.testing.Objective;
import io.parallax.engine.testing.RandomTensors;
import io.parallax.engine.testing.RecordingLayer;
import io.parallax.engine.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Gradient checks of whole small models through {@link Sequential#backward} and a real loss,
 * and of what backward must not do: touch a frozen layer's gradient, back-propagate below the
 * lowest trainable layer, or ask the first layer for an input gradient.
 */
class ModelGradientTest {

    private final GradientChecker checker = new GradientChecker();

    protected Backend backend() {
        return Backends.cpu();
    }

    /** Linear(6→8) → BatchNorm1d(8) → Tanh → Linear(8→3): smooth, so no kink can spoil a difference. */
    private Sequential bnTanhModel(long seed) {
        List<Layer> layers = List.of(new Linear(6, 8), new BatchNorm1d(8), new Tanh(), new Linear(8, 3));
        return new Sequential(6, layers, backend(), seed);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void linearBatchNormTanhLinearWithCrossEntropyInTraining(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Sequential m = bnTanhModel(seed);
        Tensor x = RandomTensors.uniform(backend(), rng, -2, 2, 7, 6);
        Objective ce = Objective.loss(new CrossEntropyLoss(), Targets.classes(RandomTensors.labels(rng, 7, 3)));
        // 0.bias: the batch mean removes any shift before BatchNorm1d, so its gradient is 0
        GradientReport r = checker.checkModel(m, x, new ForwardContext(true, seed, 0, null), ce).assertPasses()
                .assertNonTrivial(1e-3, "0.bias");
        assertEquals(List.of("input", "0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"),
                r.checks().stream().map(GradientReport.TensorCheck::name).toList());
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void linearBatchNormTanhLinearWithSummedCrossEntropyInEval(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Sequential m = bnTanhModel(seed);
        // give the running statistics real values by training-mode passes, then evaluate
        for (int i = 0; i < 5; i++) {
            m.forward(RandomTensors.uniform(backend(), rng, -2, 2, 16, 6), new ForwardContext(true, seed, i, null));
        }
        Tensor x = RandomTensors.uniform(backend(), rng, -2, 2, 5, 6);
        Objective ce = Objective.loss(new CrossEntropyLoss(Loss.Reduction.SUM),
                Targets.classes(RandomTensors.labels(rng, 5, 3)));
        checker.checkModel(m, x, ForwardContext.eval(), ce).assertPasses().assertNonTrivial(1e-3);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void dropoutSigmoidModelWithBinaryCrossEntropyAndAFixedMask(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Sequential m = new Sequential(4, List.of(new Linear(4, 6), new Dropout(0.3f), new Sigmoid(),
                new Linear(6, 2)), backend(), seed);
        Tensor x = RandomTensors.uniform(backend(), rng, -2, 2, 6, 4);
        Objective bce = Objective.loss(new BinaryCrossEntropyWithLogitsLoss(),
                Targets.values(RandomTensors.uniform(backend(), rng, 0, 1, 6, 2)));
        checker.checkModel(m, x, new ForwardContext(true, seed, 7, null), bce).assertPasses().assertNonTrivial(1e-3);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void frozenFirstLayerHasZeroGradientAndTheRestStillMatch(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Sequential m = bnTanhModel(seed);
        m.setFrozen(0, true);
        Tensor x = RandomTensors.uniform(backend(), rng, -2, 2, 7, 6);
        Objective mse = Objective.loss(new MeanSquaredErrorLoss(),
                Targets.values(RandomTensors.uniform(backend(), rng, -1, 1, 7, 3)));
        GradientReport r = checker.checkModel(m, x, new ForwardContext(true, seed, 0, null), mse).assertPasses()
                .assertNonTrivial(1e-3);
        assertTrue(r.check("0.weight").frozen() && r.check("0.bias").frozen(), r.toString());
        // the finite difference is not zero: the zero gradient is the freezing, not the model
        assertTrue(r.check("0.weight").maxAbsNumeric() > 1e-3, r.toString());
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void frozenMiddleLayerStillPassesGradientsToTheLayersBelow(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Sequential m = bnTanhModel(seed);
        m.setFrozen(1, true);
        Tensor x = RandomTensors.uniform(backend(), rng, -2, 2, 7, 6);
        Objective ce = Objective.loss(new CrossEntropyLoss(), Targets.classes(RandomTensors.labels(rng, 7, 3)));
        GradientReport r = checker.checkModel(m, x, new ForwardContext(true, seed, 0, null), ce).assertPasses()
                .assertNonTrivial(1e-3, "0.bias");
        assertTrue(r.check("1.weight").frozen() && !r.check("0.weight").frozen(), r.toString());
    }

    @Test
    void theFirstLayerIsNeverAskedForAnInputGradient() {
        RecordingLayer first = new RecordingLayer(new Linear(6, 8));
        RecordingLayer second = new RecordingLayer(new Tanh());
        RecordingLayer third = new RecordingLayer(new Linear(8, 3));
        Sequential m = new Sequential(6, List.of(first, second, third), backend(), 5);
        backwardOnce(m, 5);
        assertEquals(List.of(false), first.backwardCalls());
        assertEquals(List.of(true), second.backwardCalls());
        assertEquals(List.of(true), third.backwardCalls());
    }

    @Test
    void nothingBelowTheLowestTrainableLayerRunsBackward() {
        RecordingLayer first = new RecordingLayer(new Linear(6, 8));
        RecordingLayer second = new RecordingLayer(new Tanh());
        RecordingLayer third = new RecordingLayer(new Linear(8, 3));
        Sequential m = new Sequential(6, List.of(first, second, third), backend(), 5);
        m.freezeFirst(1);
        backwardOnce(m, 5);
        assertEquals(List.of(), first.backwardCalls(), "frozen layer 0 needs no backward at all");
        assertEquals(List.of(), second.backwardCalls(), "layer 1 has nothing below it to feed");
        assertEquals(List.of(false), third.backwardCalls(), "the lowest trainable layer needs no input gradient");

        m.freezeFirst(3);
        third.clear();
        backwardOnce(m, 6);
        assertEquals(List.of(), third.backwardCalls(), "an all-frozen model runs no backward");
        for (float g : m.gradients().toArray()) {
            assertEquals(0f, g);
        }
    }

    /**
     * A frozen layer's backward must not compute its weight gradients at all (no GEMM): a value
     * planted in its gradient slots survives a backward pass untouched, while a trainable layer's
     * slots are overwritten.
     */
    @Test
    void frozenLayersSkipTheirWeightGradientWork() {
        Sequential m = bnTanhModel(9);
        m.setFrozen(0, true);
        m.setFrozen(1, true);
        for (NamedTensor g : m.namedGradients()) {
            backend().fill(g.tensor(), 42f);
        }
        backwardOnce(m, 9);
        for (NamedTensor g : m.namedGradients()) {
            boolean frozen = g.layer().isFrozen();
            for (float v : g.tensor().toArray()) {
                if (frozen) {
                    assertEquals(42f, v, g.name() + " of a frozen layer was written");
                } else {
                    assertTrue(v != 42f && Float.isFinite(v), g.name() + " was not overwritten: " + v);
                }
            }
        }
        // freezing itself resets the gradient to zero, so an optimizer sees nothing stale
        m.setFrozen(0, true);
        for (float v : m.namedGradients().get(0).tensor().toArray()) {
            assertEquals(0f, v);
        }
    }

    private void backwardOnce(Sequential m, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor x = RandomTensors.uniform(backend(), rng, -2, 2, 4, m.inputFeatures());
        Tensor y = m.forward(x, new ForwardContext(true, seed, 0, null));
        Tensor dy = Tensor.zeros(backend(), y.shape());
        new CrossEntropyLoss().compute(y, Targets.classes(RandomTensors.labels(rng, 4, y.cols())), dy);
        m.backward(dy);
    }
}
