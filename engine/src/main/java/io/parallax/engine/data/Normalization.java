package io.parallax.engine.data;


/**
 * Per-feature normalisation fitted on the training set and applied unchanged to validation and
 * test data (so no statistics leak from them).
 *
 * <ul>
 *   <li>{@link Kind#NONE}: features as read;</li>
 *   <li>{@link Kind#MIN_MAX}: (x − min)/(max − min) into [0, 1] (a constant feature becomes 0);</li>
 *   <li>{@link Kind#STANDARDIZE}: (x − mean)/std with the population std (a constant feature
 *       becomes 0), as scikit-learn's StandardScaler.</li>
 * </ul>
 *
 * <p>Statistics and scaling are computed in float64, and only the scaled value is rounded to
 * float32, as scikit-learn on a pandas frame would: from the values as read in float64 where the
 * dataset has them ({@link Dataset#exactFeatures()}, CSV), else from its float32 features.
 */
public final class Normalization {

    /** The normalisation a job asks for. */
    public enum Kind {
        NONE, MIN_MAX, STANDARDIZE;

        /** The kind by the name a job file gives it; the same names only, so a command line can be copied into a job. */
        public static Kind parse(String name) {
            return switch (name) {
                case "none" -> NONE;
                case "min_max" -> MIN_MAX;
                case "standardize" -> STANDARDIZE;
                default -> throw new IllegalArgumentException("unknown normalisation '" + name
                        + "'; known: none, min_max, standardize");
            };
        }
    }

    private final Kind kind;
    private final double[] shift;
    private final double[] scale;

    private Normalization(Kind kind, double[] shift, double[] scale) {
        this.kind = kind;
        this.shift = shift;
        this.scale = scale;
    }

    /** Fits the statistics of {@code kind} on {@code train}. */
    public static Normalization fit(Kind kind, Dataset train) {
        int w = train.width();
        double[] shift = new double[w];
        double[] scale = new double[w];
        java.util.Arrays.fill(scale, 1);
        double[] exact = train.exactFeatures();
        float[] x = train.features();
        int n = train.rows();
        switch (kind) {
            case NONE -> { }
            case MIN_MAX -> {
                double[] min = new double[w];
                double[] max = new double[w];
                java.util.Arrays.fill(min, Double.POSITIVE_INFINITY);
                java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
                for (int r = 0; r < n; r++) {
                    for (int c = 0; c < w; c++) {
                        double v = exact != null ? exact[r * w + c] : x[r * w + c];
                        min[c] = Math.min(min[c], v);
                        max[c] = Math.max(max[c], v);
                    }
                }
                for (int c = 0; c < w; c++) {
                    shift[c] = min[c];
                    // a range so small its reciprocal overflows (0 and 1e-310) counts as constant
                    double inverse = 1 / (max[c] - min[c]);
                    scale[c] = max[c] > min[c] && Double.isFinite(inverse) ? inverse : 0;
                }
            }
            case STANDARDIZE -> {
                double[] sum = new double[w];
                for (int r = 0; r < n; r++) {
                    for (int c = 0; c < w; c++) {
                        sum[c] += exact != null ? exact[r * w + c] : x[r * w + c];
                    }
                }
                double[] sq = new double[w];
                for (int r = 0; r < n; r++) {
                    for (int c = 0; c < w; c++) {
                        double d = (exact != null ? exact[r * w + c] : x[r * w + c]) - sum[c] / n;
                        sq[c] += d * d;
                    }
                }
                for (int c = 0; c < w; c++) {
                    double std = Math.sqrt(sq[c] / n);
                    shift[c] = sum[c] / n;
                    scale[c] = std > 0 ? 1 / std : 0;
                }
            }
            default -> throw new IllegalStateException("unhandled normalisation " + kind);
        }
        return new Normalization(kind, shift, scale);
    }

    /** A normalisation with the given statistics: {@code x' = (x − shift) × scale} per feature. */
    public static Normalization of(Kind kind, double[] shift, double[] scale) {
        if (shift.length != scale.length) {
            throw new IllegalArgumentException("normalisation: " + shift.length + " shifts but " + scale.length
                    + " scales");
        }
        return new Normalization(kind, shift.clone(), scale.clone());
    }

    public Kind kind() {
        return kind;
    }

    /** What is subtracted from each feature (the mean, or the minimum); a copy. */
    public double[] shift() {
        return shift.clone();
    }

    /** What each feature is then multiplied by (1/std, or 1/(max − min); 0 for a constant feature); a copy. */
    public double[] scale() {
        return scale.clone();
    }

    /** Features per row it was fitted on. */
    public int width() {
        return shift.length;
    }

    /**
     * Normalises {@code data}'s features in place, in float64, each result rounded to float32:
     * from its float64 values as read where it still has them (then applying again, or another
     * normalisation, starts from them too), else from its float32 features.
     */
    public void applyInPlace(Dataset data) {
        if (kind == Kind.NONE) {
            return;
        }
        if (data.width() != shift.length) {
            throw new IllegalArgumentException("normalisation was fitted on " + shift.length + " features, the data has "
                    + data.width());
        }
        double[] exact = data.exactFeatures();
        float[] x = data.features();
        int w = shift.length;
        for (int i = 0; i < x.length; i++) {
            int c = i % w;
            x[i] = (float) (((exact != null ? exact[i] : x[i]) - shift[c]) * scale[c]);
        }
    }
}
