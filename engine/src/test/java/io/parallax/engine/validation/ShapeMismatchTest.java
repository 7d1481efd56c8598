package io.parallax.engine.validation;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.layer.BatchNorm1d;
import io.parallax.engine.layer.Dropout;
import io.parallax.engine.layer.ForwardContext;
import io.parallax.engine.layer.Layer;
import io.parallax.engine.layer.Linear;
import io.parallax.engine.layer.ReLU;
import io.parallax.engine.layer.Softmax;
import io.parallax.engine.layer.Tanh;
import io.parallax.engine.loss.BinaryCrossEntropyWithLogitsLoss;
import io.parallax.engine.loss.CrossEntropyLoss;
import io.parallax.engine.loss.MeanSquaredErrorLoss;
import io.parallax.engine.loss.Targets;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Shape mismatches fail with an {@link IllegalArgumentException} whose message names the layer
 * (or loss) and both shapes, before any kernel runs.
 */
class ShapeMismatchTest {

    protected Backend backend() {
        return Backends.cpu();
    }

    private Sequential model(Layer... layers) {
        return new Sequential(6, List.of(layers), backend(), 1);
    }

    @Test
    void wrongInputWidthNamesTheFirstLayerAndTheShape() {
        Sequential m = model(new Linear(6, 4), new ReLU(), new Linear(4, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> m.forward(Tensor.zeros(backend(), 5, 7)));
        Messages.assertMentions(e, "[5, 7]", "6", "Linear#0");
    }

    @Test
    void layersThatDoNotFitTogetherAreRejectedWhenTheModelIsBuilt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model(new Linear(6, 4), new Linear(5, 3)));
        Messages.assertMentions(e, "layer 1", "Linear", "5", "got 4");
        IllegalArgumentException bn = assertThrows(IllegalArgumentException.class,
                () -> model(new Linear(6, 4), new BatchNorm1d(3)));
        Messages.assertMentions(bn, "layer 1", "BatchNorm1d", "3", "got 4");
    }

    @Test
    void outputGradientWithTheWrongWidthOrBatchNamesTheLayer() {
        Sequential m = model(new Linear(6, 4), new Tanh(), new Linear(4, 3));
        m.forward(Tensor.zeros(backend(), 5, 6));
        IllegalArgumentException cols = assertThrows(IllegalArgumentException.class,
                () -> m.backward(Tensor.zeros(backend(), 5, 2)));
        Messages.assertMentions(cols, "layer 2", "Linear", "[5, 3]", "[5, 2]");
        IllegalArgumentException rows = assertThrows(IllegalArgumentException.class,
                () -> m.backward(Tensor.zeros(backend(), 4, 3)));
        Messages.assertMentions(rows, "layer 2", "[5, 3]", "[4, 3]");
    }

    /** Same element count, different shape: a transposed gradient must not slip through. */
    @Test
    void transposedOutputGradientIsRejectedByEveryLayerKind() {
        for (Layer top : List.of(new Tanh(), new Softmax(), new BatchNorm1d(4), new Dropout(0.5f))) {
            Sequential m = model(new Linear(6, 4), top);
            for (boolean training : new boolean[] {true, false}) {
                m.forward(Tensor.zeros(backend(), 2, 6), new ForwardContext(training, 1, 0, null));
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> m.backward(Tensor.zeros(backend(), 4, 2)), top + " training=" + training);
                Messages.assertMentions(e, "layer 1", top.getClass().getSimpleName(), "[2, 4]", "[4, 2]");
            }
        }
    }

    @Test
    void crossEntropyLabelCountMustMatchTheRows() {
        Tensor logits = Tensor.zeros(backend(), 4, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CrossEntropyLoss().compute(logits, Targets.classes(0, 1, 2)));
        Messages.assertMentions(e, "cross-entropy", "3 labels", "4 output rows");
    }

    @Test
    void crossEntropyLabelOutOfRangeNamesTheLabelAndRow() {
        Tensor logits = Tensor.zeros(backend(), 4, 3);
        IllegalArgumentException high = assertThrows(IllegalArgumentException.class,
                () -> new CrossEntropyLoss().compute(logits, Targets.classes(0, 1, 3, 2)));
        Messages.assertMentions(high, "label 3", "row 2", "[0, 3)");
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> new CrossEntropyLoss().compute(logits, Targets.classes(0, -1, 1, 2), Tensor.zeros(backend(), 4, 3)));
        Messages.assertMentions(negative, "label -1", "row 1");
    }

    @Test
    void crossEntropyNeedsClassTargets() {
        Tensor logits = Tensor.zeros(backend(), 4, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CrossEntropyLoss().compute(logits, Targets.values(Tensor.zeros(backend(), 4, 3))));
        Messages.assertMentions(e, "cross-entropy", "Targets.classes");
    }

    @Test
    void valueTargetsMustMatchTheOutput() {
        Tensor out = Tensor.zeros(backend(), 4, 3);
        Targets wrong = Targets.values(Tensor.zeros(backend(), 4, 2));
        IllegalArgumentException mse = assertThrows(IllegalArgumentException.class,
                () -> new MeanSquaredErrorLoss().compute(out, wrong));
        Messages.assertMentions(mse, "mean squared error", "[4, 2]", "[4, 3]");
        IllegalArgumentException bce = assertThrows(IllegalArgumentException.class,
                () -> new BinaryCrossEntropyWithLogitsLoss().compute(out, wrong));
        Messages.assertMentions(bce, "binary cross-entropy", "[4, 2]", "[4, 3]");
        IllegalArgumentException kind = assertThrows(IllegalArgumentException.class,
                () -> new MeanSquaredErrorLoss().compute(out, Targets.classes(0, 1, 2, 0)));
        Messages.assertMentions(kind, "mean squared error", "Targets.values");
    }

    @Test
    void rowIdsMustCoverTheBatch() {
        Sequential m = model(new Linear(6, 4), new Dropout(0.5f));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> m.forward(Tensor.zeros(backend(), 3, 6), new ForwardContext(true, 1, 0, new long[] {0, 1})));
        Messages.assertMentions(e, "2 row ids", "3 rows");
    }
}
