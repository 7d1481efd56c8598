package io.parallax.engine.train;

import io.parallax.engine.layer.RowBuffer;
import io.parallax.engine.loss.BinaryCrossEntropyWithLogitsLoss;
import io.parallax.engine.loss.CrossEntropyLoss;
import io.parallax.engine.loss.Loss;
import io.parallax.engine.loss.Targets;
import io.parallax.engine.metric.Accuracy;
import io.parallax.engine.tensor.Tensor;

/**
 * Turns a batch's class labels into what a loss compares the output with — class indices for
 * cross-entropy, the label as a 0/1 value for a single-output binary loss, a one-hot row
 * otherwise (e.g. MSE over classes) — and counts correct predictions the matching way. Shared
 * by the single-process trainer and the distributed workers so both score a batch identically.
 */
public final class BatchTargets {

    private final Loss loss;
    private final RowBuffer values = new RowBuffer();

    public BatchTargets(Loss loss) {
        this.loss = loss;
    }

    /** Targets for {@code labels} against an output shaped like {@code out}. */
    public Targets of(Tensor out, int[] labels, int classes) {
        if (loss instanceof CrossEntropyLoss) {
            return Targets.classes(labels);
        }
        int n = labels.length;
        int cols = out.cols();
        float[] v = new float[n * cols];
        if (cols == 1) {
            if (classes > 2) {
                throw new IllegalArgumentException("a single-output model with " + loss.type()
                        + " needs two classes; the data has " + classes);
            }
            for (int i = 0; i < n; i++) {
                v[i] = labels[i];
            }
        } else {
            for (int i = 0; i < n; i++) {
                v[i * cols + labels[i]] = 1f;
            }
        }
        Tensor t = values.get(out.backend(), n, cols);
        t.copyFrom(v);
        return Targets.values(t);
    }

    /**
     * Correctly classified rows: argmax, or for one output a threshold: 0 on the logits of
     * binary cross-entropy with logits, 0.5 on what is trained towards the 0/1 targets directly
     * (probabilities for binary cross-entropy, the regression of MSE).
     */
    public long correct(Tensor out, Targets targets, int[] labels) {
        if (out.cols() == 1 && !(loss instanceof CrossEntropyLoss)) {
            return Accuracy.correctBinary(out, targets.values(), loss instanceof BinaryCrossEntropyWithLogitsLoss);
        }
        return Accuracy.correctMultiClass(out, labels);
    }
}
