package io.parallax.engine.metric;

import io.parallax.engine.tensor.Tensor;

/**
 * Classification accuracy. Counts are returned (not fractions) so partial results from several
 * batches or workers add up exactly.
 */
public final class Accuracy {

    private Accuracy() {}

    /** Rows whose largest output (first on ties) is the label: multi-class accuracy. */
    public static long correctMultiClass(Tensor output, int[] labels) {
        int rows = output.rows();
        if (labels.length != rows) {
            throw new IllegalArgumentException("accuracy: " + labels.length + " labels for " + rows + " output rows");
        }
        int[] predicted = new int[rows];
        output.backend().argmaxRows(output, predicted);
        long correct = 0;
        for (int r = 0; r < rows; r++) {
            correct += predicted[r] == labels[r] ? 1 : 0;
        }
        return correct;
    }

    /**
     * Elements where the prediction, thresholded at 0.5 (a probability ≥ 0.5 is class 1), equals
     * the 0/1 target: binary accuracy. For raw scores (logits) pass {@code logits = true}: the
     * threshold is then 0, the same decision.
     */
    public static long correctBinary(Tensor output, Tensor targets, boolean logits) {
        if (output.size() != targets.size()) {
            throw new IllegalArgumentException("accuracy: targets " + targets + " do not match the output " + output);
        }
        float[] y = output.toArray();
        float[] t = targets.toArray();
        float threshold = logits ? 0f : 0.5f;
        long correct = 0;
        for (int i = 0; i < y.length; i++) {
            boolean predicted = y[i] >= threshold;
            boolean actual = t[i] >= 0.5f;
            correct += predicted == actual ? 1 : 0;
        }
        return correct;
    }

    /** Fraction of rows classified correctly (multi-class). */
    public static double multiClass(Tensor output, int[] labels) {
        return output.rows() == 0 ? 0 : (double) correctMultiClass(output, labels) / output.rows();
    }

    /** Fraction of elements classified correctly (binary). */
    public static double binary(Tensor output, Tensor targets, boolean logits) {
        return output.size() == 0 ? 0 : (double) correctBinary(output, targets, logits) / output.size();
    }
}
