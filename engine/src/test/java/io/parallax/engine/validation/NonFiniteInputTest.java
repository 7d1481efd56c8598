package io.parallax.engine.validation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.layer.BatchNorm1d;
import io.parallax.engine.layer.ForwardContext;
import io.parallax.engine.layer.Linear;
import io.parallax.engine.layer.Tanh;
import io.parallax.engine.loss.BinaryCrossEntropyLoss;
import io.parallax.engine.loss.BinaryCrossEntropyWithLogitsLoss;
import io.parallax.engine.loss.CrossEntropyLoss;
import io.parallax.engine.loss.MeanSquaredErrorLoss;
import io.parallax.engine.loss.Targets;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Values no layer or loss can use: NaN and infinities in a model's input or output,
 * probabilities outside [0, 1], a one-row batch for batch normalisation in training. Each fails
 * with an {@link IllegalArgumentException} naming where the value sits and the value itself.
 */
class NonFiniteInputTest {

    protected Backend backend() {
        return Backends.cpu();
    }

    private Sequential model() {
        return new Sequential(4, List.of(new Linear(4, 3), new Tanh(), new Linear(3, 2)), backend(), 1);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(floats = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY})
    void modelInputNamesLayerRowColumnAndValue(float bad) {
        Tensor x = Tensor.zeros(backend(), 5, 4);
        x.set(2 * 4 + 3, bad);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model().forward(x));
        Messages.assertMentions(e, "layer 0", "Linear", "row 2", "column 3", String.valueOf(bad));
        IllegalArgumentException eval = assertThrows(IllegalArgumentException.class,
                () -> model().eval().forward(x, ForwardContext.eval()));
        Messages.assertMentions(eval, "row 2", "column 3", String.valueOf(bad));
    }

    @Test
    void theCheckCanBeTurnedOffForTrustedInputs() {
        Sequential m = model();
        m.setCheckInputs(false);
        Tensor x = Tensor.zeros(backend(), 1, 4);
        x.set(0, Float.NaN);
        assertEquals(Float.NaN, m.forward(x).get(0));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(floats = {Float.NaN, Float.POSITIVE_INFINITY})
    void lossesRejectANonFiniteModelOutput(float bad) {
        Tensor out = Tensor.zeros(backend(), 3, 2);
        out.set(5, bad);
        Messages.assertMentions(assertThrows(IllegalArgumentException.class,
                () -> new CrossEntropyLoss().compute(out, Targets.classes(0, 1, 0))),
                "cross-entropy", String.valueOf(bad), "element 5");
        Tensor t = Tensor.zeros(backend(), 3, 2);
        Messages.assertMentions(assertThrows(IllegalArgumentException.class,
                () -> new MeanSquaredErrorLoss().compute(out, Targets.values(t))),
                "mean squared error", String.valueOf(bad), "element 5");
        Messages.assertMentions(assertThrows(IllegalArgumentException.class,
                () -> new BinaryCrossEntropyWithLogitsLoss().compute(out, Targets.values(t))),
                "binary cross-entropy", String.valueOf(bad), "element 5");
    }

    @ParameterizedTest(name = "p = {0}")
    @ValueSource(floats = {1.5f, -0.25f, Float.NaN})
    void binaryCrossEntropyOnProbabilitiesOutsideZeroToOne(float p) {
        Tensor probabilities = Tensor.of(backend(), new float[] {0.2f, 0.9f, p, 0.5f}, 4, 1);
        Tensor targets = Tensor.of(backend(), new float[] {0, 1, 1, 0}, 4, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new BinaryCrossEntropyLoss().compute(probabilities, Targets.values(targets),
                        Tensor.zeros(backend(), 4, 1)));
        Messages.assertMentions(e, "binary cross-entropy", "[0, 1]", String.valueOf(p), "element 2");
    }

    @Test
    void binaryCrossEntropyAcceptsTheEndpoints() {
        Tensor probabilities = Tensor.of(backend(), new float[] {0f, 1f}, 2, 1);
        Tensor targets = Tensor.of(backend(), new float[] {1, 0}, 2, 1);
        // log clamped at −100 as in PyTorch: finite, 100 per element
        assertEquals(100.0, new BinaryCrossEntropyLoss().compute(probabilities, Targets.values(targets)), 1e-9);
    }

    @Test
    void batchNormRejectsABatchOfOneInTrainingButNotInEval() {
        Sequential m = new Sequential(3, List.of(new Linear(3, 4), new BatchNorm1d(4)), backend(), 1);
        Tensor one = Tensor.zeros(backend(), 1, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> m.forward(one, new ForwardContext(true, 1, 0, null)));
        Messages.assertMentions(e, "layer 1", "BatchNorm1d", "batch of 1");
        assertEquals(4, m.forward(one, ForwardContext.eval()).size());
    }
}
