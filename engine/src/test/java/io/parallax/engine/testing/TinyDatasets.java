package io.parallax.engine.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Small real datasets shipped with the engine's tests (under {@code /data} on the test class
 * path; see {@code data/README.md} there for sources and licences).
 */
public final class TinyDatasets {

    /** A fixed train/test split. */
    public record Split(TabularDataset train, TabularDataset test) {}

    private TinyDatasets() {}

    /**
     * Breast Cancer Wisconsin (Diagnostic): 569 samples, 30 features, label 0 = malignant,
     * 1 = benign; 455 training and 114 test rows (every fifth sample is a test sample). Both
     * parts are standardised with the training set's mean and standard deviation.
     */
    public static Split breastCancerStandardized() {
        Split raw = readCsv("/data/breast_cancer.csv");
        double[] mean = raw.train().columnMeans();
        double[] std = raw.train().columnStandardDeviations(mean);
        return new Split(raw.train().standardized(mean, std), raw.test().standardized(mean, std));
    }

    /**
     * Reads a CSV resource with a header line, numeric feature columns, then an integer
     * {@code target} column and a {@code split} column holding "train" or "test".
     */
    public static Split readCsv(String resource) {
        try (InputStream in = TinyDatasets.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no resource " + resource + " on the class path");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String[] header = reader.readLine().split(",");
            int columns = header.length - 2;
            if (columns < 1 || !header[columns].equals("target") || !header[columns + 1].equals("split")) {
                throw new IllegalArgumentException(resource + ": expected features, then 'target' and 'split'"
                        + " columns, got header " + String.join(",", header));
            }
            List<float[]> train = new ArrayList<>();
            List<float[]> test = new ArrayList<>();
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                String[] cells = line.split(",");
                if (cells.length != header.length) {
                    throw new IllegalArgumentException(resource + ": a row has " + cells.length + " cells, the header "
                            + header.length + ": " + line);
                }
                float[] row = new float[columns + 1];
                for (int c = 0; c <= columns; c++) {
                    row[c] = Float.parseFloat(cells[c]);
                }
                switch (cells[columns + 1]) {
                    case "train" -> train.add(row);
                    case "test" -> test.add(row);
                    default -> throw new IllegalArgumentException(resource + ": split must be train or test, got "
                            + cells[columns + 1]);
                }
            }
            return new Split(toDataset(train, columns), toDataset(test, columns));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }

    private static TabularDataset toDataset(List<float[]> rows, int columns) {
        float[] features = new float[rows.size() * columns];
        int[] labels = new int[rows.size()];
        for (int r = 0; r < rows.size(); r++) {
            float[] row = rows.get(r);
            System.arraycopy(row, 0, features, r * columns, columns);
            labels[r] = (int) row[columns];
        }
        return new TabularDataset(features, rows.size(), columns, labels);
    }
}
