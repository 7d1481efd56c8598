package io.parallax.engine.testing;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.tensor.Tensor;

/**
 * A small in-memory classification dataset: a row-major [rows, columns] feature matrix and one
 * class label per row.
 *
 * @param features row-major feature values, {@code rows·columns} of them
 * @param rows     number of samples
 * @param columns  number of features per sample
 * @param labels   class index per sample
 */
public record TabularDataset(float[] features, int rows, int columns, int[] labels) {

    public TabularDataset {
        if (features.length != (long) rows * columns || labels.length != rows) {
            throw new IllegalArgumentException(rows + " rows of " + columns + " features need " + rows * columns
                    + " values and " + rows + " labels, got " + features.length + " and " + labels.length);
        }
    }

    /** The features as a [rows, columns] tensor. */
    public Tensor featureTensor(Backend backend) {
        return Tensor.of(backend, features, rows, columns);
    }

    /** The labels as a [rows, 1] float tensor of 0/1 values, for binary losses. */
    public Tensor labelTensor(Backend backend) {
        float[] v = new float[rows];
        for (int i = 0; i < rows; i++) {
            v[i] = labels[i];
        }
        return Tensor.of(backend, v, rows, 1);
    }

    /** Per-column mean, in double. */
    public double[] columnMeans() {
        double[] mean = new double[columns];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < columns; c++) {
                mean[c] += features[r * columns + c];
            }
        }
        for (int c = 0; c < columns; c++) {
            mean[c] /= rows;
        }
        return mean;
    }

    /** Per-column population standard deviation (divisor n, as scikit-learn's StandardScaler). */
    public double[] columnStandardDeviations(double[] mean) {
        double[] var = new double[columns];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < columns; c++) {
                double d = features[r * columns + c] - mean[c];
                var[c] += d * d;
            }
        }
        double[] std = new double[columns];
        for (int c = 0; c < columns; c++) {
            std[c] = Math.sqrt(var[c] / rows);
        }
        return std;
    }

    /**
     * (x − mean)/std per column, with statistics given by the caller (those of the training set,
     * so no test information leaks into the features). A constant column (std 0) is only centred.
     */
    public TabularDataset standardized(double[] mean, double[] std) {
        if (mean.length != columns || std.length != columns) {
            throw new IllegalArgumentException("need " + columns + " means and deviations, got " + mean.length
                    + " and " + std.length);
        }
        float[] out = new float[features.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < columns; c++) {
                double s = std[c] > 0 ? std[c] : 1;
                out[r * columns + c] = (float) ((features[r * columns + c] - mean[c]) / s);
            }
        }
        return new TabularDataset(out, rows, columns, labels.clone());
    }

    /** Number of distinct classes, assuming labels 0..k−1. */
    public int classes() {
        int max = -1;
        for (int l : labels) {
            max = Math.max(max, l);
        }
        return max + 1;
    }
}
