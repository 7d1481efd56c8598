package io.parallax.worker.job;

import io.parallax.engine.data.InputFormat;
import io.parallax.engine.data.Normalization;
import io.parallax.engine.data.Preprocessing;
import io.parallax.engine.io.ModelFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What a job that starts from a saved model ({@code model.init_from}) is told when that model was
 * trained on inputs prepared otherwise than this job's, as its file's metadata records them: a
 * normalisation of another kind or, of the same kind, statistics fitted on other rows, other CSV
 * columns (or the same in another order), pixels where this job reads columns, or, when every
 * layer is loaded, outputs that stood for other classes.
 * None of these stops the job (fine-tuning on a new dataset is what {@code init_from} is for), but
 * each makes the loaded layers see inputs, or stand for classes, unlike those they were trained
 * on, silently. A file without that metadata (written by PyTorch) gives no notes.
 */
final class InitFromNotes {

    private InitFromNotes() {}

    /**
     * @param file       the {@code init_from} file
     * @param job        how this job prepares its inputs and numbers its classes
     * @param wholeModel whether every layer is loaded (then the output layer's classes matter)
     */
    static List<String> of(Path file, Preprocessing job, boolean wholeModel) {
        Optional<Preprocessing> saved;
        try {
            saved = ModelFile.readPreprocessing(file);
        } catch (IOException e) {
            return List.of("model.init_from: its input metadata could not be read, so this job's inputs were not "
                    + "compared with the ones it was trained on (" + e.getMessage() + ")");
        }
        if (saved.isEmpty()) {
            return List.of();
        }
        Preprocessing was = saved.get();
        List<String> notes = new ArrayList<>();
        String input = inputDifference(was.input(), job.input());
        if (input != null) {
            notes.add("model.init_from was trained on " + input);
        }
        Normalization.Kind wasKind = kind(was.normalization());
        Normalization.Kind isKind = kind(job.normalization());
        // a file with an input format but no normalisation was trained on unnormalised inputs
        boolean normalizationKnown = was.input() != null || was.normalization() != null;
        if (normalizationKnown && wasKind != isKind) {
            notes.add("model.init_from was trained on inputs normalised with " + name(wasKind) + "; this job's are "
                    + "normalised with " + name(isKind) + ", so its loaded layers see inputs on another scale");
        }
        // the same features only: other columns are told above, and their statistics differ anyway
        String statistics = input == null && normalizationKnown && wasKind == isKind
                ? statisticsDifference(was.normalization(), job.normalization()) : null;
        if (statistics != null) {
            notes.add("model.init_from's inputs were normalised with the statistics of its own training data, and "
                    + "this job's differ: " + statistics + ", so its loaded layers see shifted inputs");
        }
        if (wholeModel && !was.classNames().isEmpty() && !was.classNames().equals(job.classNames())) {
            notes.add(classDifference(was.classNames(), job.classNames()));
        }
        return notes;
    }

    /** Statistics that differ by less than this (in the saved model's normalised units) go unmentioned. */
    static final double STATISTICS_TOLERANCE = 0.1;

    /**
     * Where the same kind of normalisation, fitted on other data, moves a feature most: for a raw
     * value within this job's typical range (normalised |x'| ≤ 1 here), how far apart the two
     * normalised values can be, in the saved model's units; null when no feature moves by
     * {@link #STATISTICS_TOLERANCE} or more, or the two cannot be compared.
     */
    static String statisticsDifference(Normalization was, Normalization is) {
        if (was == null || is == null || was.kind() == Normalization.Kind.NONE || was.width() != is.width()) {
            return null;
        }
        double[] s1 = was.shift();
        double[] a1 = was.scale();
        double[] s2 = is.shift();
        double[] a2 = is.scale();
        int worst = -1;
        double most = 0;
        for (int i = 0; i < s1.length; i++) {
            if (a1[i] == 0 || a2[i] == 0) {
                continue; // a constant feature on either side: normalised to 0 whatever its value
            }
            // x = s2 + t/a2, |t| ≤ 1: (x − s1)·a1 − (x − s2)·a2 = (s2 − s1)·a1 + t·(a1/a2 − 1)
            double apart = Math.abs((s2[i] - s1[i]) * a1[i]) + Math.abs(a1[i] / a2[i] - 1);
            if (apart > most) {
                most = apart;
                worst = i;
            }
        }
        if (most < STATISTICS_TOLERANCE) {
            return null;
        }
        return String.format(Locale.ROOT, "feature %d (of %d), for one, comes out up to %.2g apart in normalised "
                + "units (its shift %.4g there, %.4g here; its scale %.4g there, %.4g here)", worst, s1.length, most,
                s1[worst], s2[worst], a1[worst], a2[worst]);
    }

    /** Which outputs stand for another class here than in the saved model, in words. */
    static String classDifference(List<String> was, List<String> is) {
        int common = Math.min(was.size(), is.size());
        List<String> differ = new ArrayList<>();
        for (int i = 0; i < common; i++) {
            if (!was.get(i).equals(is.get(i))) {
                differ.add("output " + i + " is '" + was.get(i) + "' there and '" + is.get(i) + "' here");
            }
        }
        if (differ.isEmpty()) {
            // one list starts the other: the outputs both have keep their classes
            return was.size() > is.size()
                    ? "model.init_from's " + outputs(is.size(), was.size()) + " stood for the classes "
                            + was.subList(is.size(), was.size()) + ", which this job's data do not have; "
                            + outputs(0, is.size()) + " stand for the same classes as there"
                    : "this job's classes " + is.subList(was.size(), is.size()) + " are new to model.init_from: "
                            + "its " + outputs(was.size(), is.size()) + " stood for no class there; "
                            + outputs(0, was.size()) + " stand for the same classes as there";
        }
        int shown = Math.min(3, differ.size());
        return "model.init_from's outputs stand for other classes than this job's: "
                + String.join(", ", differ.subList(0, shown))
                + (differ.size() > shown ? " (" + differ.size() + " of " + common + " outputs differ)" : "")
                + ": its output layer starts from another meaning for " + (differ.size() == 1 ? "that output"
                : "those outputs");
    }

    /** "output 3" or "outputs 3 to 9": the outputs from {@code from} to {@code to} - 1. */
    private static String outputs(int from, int to) {
        return to - from == 1 ? "output " + from : "outputs " + from + " to " + (to - 1);
    }

    /** How the saved input differs from this job's, in words; null if it does not (or is unknown). */
    private static String inputDifference(InputFormat was, InputFormat is) {
        if (was == null || is == null) {
            return null;
        }
        if ((was.kind() == InputFormat.Kind.CSV) != (is.kind() == InputFormat.Kind.CSV)) {
            return describe(was) + "; this job's inputs are " + describe(is);
        }
        if (was.kind() == InputFormat.Kind.CSV && !was.columns().equals(is.columns())) {
            int n = Math.min(was.columns().size(), is.columns().size());
            for (int i = 0; i < n; i++) {
                if (!was.columns().get(i).equals(is.columns().get(i))) {
                    return "CSV columns that differ from this job's from column " + (i + 1) + " on ('"
                            + was.columns().get(i) + "' there, '" + is.columns().get(i) + "' here)";
                }
            }
            return "CSV columns " + was.columns() + "; this job's are " + is.columns();
        }
        // an IDX image [28, 28] and a grey picture [1, 28, 28] are the same rows
        if (was.kind() != InputFormat.Kind.CSV
                && !withoutLeadingOnes(was.shape()).equals(withoutLeadingOnes(is.shape()))) {
            return describe(was) + "; this job's inputs are " + describe(is);
        }
        return null;
    }

    private static List<Integer> withoutLeadingOnes(List<Integer> shape) {
        int i = 0;
        while (i < shape.size() - 1 && shape.get(i) == 1) {
            i++;
        }
        return shape.subList(i, shape.size());
    }

    private static String describe(InputFormat f) {
        return f.kind() == InputFormat.Kind.CSV ? "CSV columns " + f.columns()
                : "pixels / " + f.divideBy() + " of shape " + f.shape();
    }

    private static Normalization.Kind kind(Normalization n) {
        return n == null ? Normalization.Kind.NONE : n.kind();
    }

    private static String name(Normalization.Kind kind) {
        return kind == Normalization.Kind.NONE ? "none" : kind.name().toLowerCase(Locale.ROOT);
    }
}
