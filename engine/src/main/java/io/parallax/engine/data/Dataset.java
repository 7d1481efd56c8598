package io.parallax.engine.data;

import io.parallax.engine.random.CounterRng;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * An in-memory labelled dataset: features as one row-major float array [rows, features] and an
 * integer class label per row. Rows are addressed by index, which is also the sample id used for
 * dropout masks, so a sample keeps its identity however batches are cut.
 *
 * <p>Values read from text (CSV) also come in float64, as read ({@link #exactFeatures()}), for
 * {@link Normalization} to fit and apply its statistics on, until released: pandas and scikit-learn
 * work in float64 and round to float32 only after scaling, and a column of large values with a
 * small spread (Unix timestamps, say) has its information only in the digits float32 drops.
 */
public final class Dataset {

    /** Keeps the split permutation apart from the other streams drawn from the same seed. */
    private static final long SPLIT_SALT = 0x5b1175L;

    private final float[] features;
    /** The features as read in float64 (null when read as float32, or released). */
    private double[] exact;
    private final int[] labels;
    private final int rows;
    private final int width;
    private final int classes;

    /**
     * @param features row-major [rows, width]
     * @param labels   one class index per row, in [0, classes)
     * @param classes  number of classes (≥ the largest label + 1)
     */
    public Dataset(float[] features, int[] labels, int width, int classes) {
        this(features, null, labels, width, classes);
    }

    /**
     * @param exact the features as read in float64, same layout as {@code features} (each of
     *              which is its value rounded to float32); null when there are none
     */
    public Dataset(float[] features, double[] exact, int[] labels, int width, int classes) {
        if (width <= 0) {
            throw new IllegalArgumentException("a dataset needs ≥ 1 feature per row, got " + width);
        }
        if (features.length % width != 0) {
            throw new IllegalArgumentException(features.length + " feature values do not split into rows of " + width);
        }
        this.rows = features.length / width;
        if (labels.length != rows) {
            throw new IllegalArgumentException(rows + " rows of features but " + labels.length + " labels");
        }
        for (int r = 0; r < rows; r++) {
            if (labels[r] < 0 || labels[r] >= classes) {
                throw new IllegalArgumentException("label " + labels[r] + " at row " + r + " is outside [0, " + classes + ")");
            }
        }
        if (exact != null && exact.length != features.length) {
            throw new IllegalArgumentException(exact.length + " float64 values for " + features.length + " features");
        }
        this.features = features;
        this.exact = exact;
        this.labels = labels;
        this.width = width;
        this.classes = classes;
    }

    public int rows() {
        return rows;
    }

    /** Features per row. */
    public int width() {
        return width;
    }

    /** Whether every row has the same label: nothing for a classifier to learn. */
    public boolean singleClass() {
        return java.util.Arrays.stream(labels).distinct().limit(2).count() < 2;
    }

    public int classes() {
        return classes;
    }

    /** {@link #digest()}, once computed; features and labels do not change after loading and normalising. */
    private volatile Long digest;

    /**
     * A checksum of the rows as they are now (CRC-32C over the shape, the labels and the
     * features' bits): equal on two nodes exactly when they hold the same data, so a node that
     * read a data file changed since the others loaded it is caught. Computed once (tens of
     * milliseconds for Fashion-MNIST's 188 MB), after normalisation.
     */
    public long digest() {
        Long d = digest;
        if (d == null) {
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            java.nio.ByteBuffer chunk = java.nio.ByteBuffer.allocate(1 << 20).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            chunk.putInt(rows).putInt(width).putInt(classes);
            for (int label : labels) {
                if (chunk.remaining() < Integer.BYTES) {
                    crc.update(chunk.flip());
                    chunk.clear();
                }
                chunk.putInt(label);
            }
            crc.update(chunk.flip());
            chunk.clear();
            java.nio.FloatBuffer floats = chunk.asFloatBuffer();
            for (int from = 0; from < features.length; from += floats.capacity()) {
                int n = Math.min(floats.capacity(), features.length - from);
                floats.clear();
                floats.put(features, from, n);
                crc.update(chunk.clear().limit(n * Float.BYTES));
            }
            d = crc.getValue() ^ ((long) rows << 32);
            digest = d;
        }
        return d;
    }

    /** The backing row-major feature array (not a copy). */
    public float[] features() {
        return features;
    }

    /**
     * The features as read in float64 (not a copy), until {@link #releaseExact()}; null when the
     * data were read as float32 (pixels) or the values have been released. Normalising rewrites
     * {@link #features()} from these, so it can be done again (with other statistics) as long as
     * they are here.
     */
    public double[] exactFeatures() {
        return exact;
    }

    /** Lets the float64 values go (once the features are normalised for good): a third of the memory. */
    public void releaseExact() {
        exact = null;
    }

    /** The backing label array (not a copy). */
    public int[] labels() {
        return labels;
    }

    /** Copies the rows named by {@code indices[from..from+count)} into {@code out} (row-major) and their labels into {@code outLabels}. */
    public void gather(int[] indices, int from, int count, float[] out, int[] outLabels) {
        for (int i = 0; i < count; i++) {
            int r = indices[from + i];
            System.arraycopy(features, r * width, out, i * width, width);
            outLabels[i] = labels[r];
        }
    }

    /** Rows [from, from+count) as a new dataset (copies). */
    public Dataset slice(int from, int count) {
        if (from < 0 || count < 0 || from + count > rows) {
            throw new IllegalArgumentException("rows [" + from + ", " + (from + count) + ") outside a dataset of " + rows);
        }
        return new Dataset(Arrays.copyOfRange(features, from * width, (from + count) * width),
                exact == null ? null : Arrays.copyOfRange(exact, from * width, (from + count) * width),
                Arrays.copyOfRange(labels, from, from + count), width, classes);
    }

    /**
     * A copy with the rows in a seeded random order (a Fisher–Yates permutation drawn from
     * {@code seed} alone), e.g. before cutting a reproducible validation split off the end.
     */
    public Dataset shuffled(long seed) {
        return inOrder(splitOrder(seed), 0, rows);
    }

    /** The rows of {@link #shuffled} cut in two: the last {@code heldOut} rows, and the rest. */
    public record Split(Dataset rest, Dataset heldOut) {}

    /**
     * {@code shuffled(seed)} cut into its first {@code rows − heldOut} rows and its last
     * {@code heldOut}, gathered straight from this dataset: no shuffled copy of the whole in
     * between (a large dataset would otherwise be held three times over while it is split).
     */
    public Split split(long seed, int heldOut) {
        if (heldOut < 0 || heldOut > rows) {
            throw new IllegalArgumentException("cannot hold out " + heldOut + " of " + rows + " rows");
        }
        int[] order = splitOrder(seed);
        return new Split(inOrder(order, 0, rows - heldOut), inOrder(order, rows - heldOut, heldOut));
    }

    private int[] splitOrder(long seed) {
        int[] order = new int[rows];
        for (int i = 0; i < rows; i++) {
            order[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(CounterRng.key(seed, SPLIT_SALT));
        for (int i = rows - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** Rows {@code order[from..from+count)} as a new dataset (copies, float64 values too). */
    private Dataset inOrder(int[] order, int from, int count) {
        float[] x = new float[count * width];
        int[] y = new int[count];
        gather(order, from, count, x, y);
        double[] e = null;
        if (exact != null) {
            e = new double[count * width];
            for (int i = 0; i < count; i++) {
                System.arraycopy(exact, order[from + i] * width, e, i * width, width);
            }
        }
        return new Dataset(x, e, y, width, classes);
    }

    @Override
    public String toString() {
        return "Dataset[" + rows + " rows × " + width + " features, " + classes + " classes]";
    }
}
