package io.parallax.worker.job;

import io.parallax.engine.data.CsvReader;
import io.parallax.engine.data.Dataset;
import io.parallax.engine.data.IdxReader;
import io.parallax.engine.data.ImageFolderReader;
import io.parallax.engine.data.InputFormat;
import io.parallax.engine.data.Normalization;
import io.parallax.proto.v1.CsvSource;
import io.parallax.proto.v1.DataSource;
import io.parallax.proto.v1.DataSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A job's datasets, read and normalised: the training set, the validation set (a source, a seeded
 * split of the training rows, or none) and the class names. Classes are those of the training
 * set; validation labels are matched to them by name, and a validation class the training set
 * lacks is an error. Normalisation statistics come from the training rows only.
 *
 * @param validation null when the job has none
 * @param source     field path of the training source, for messages
 */
record JobData(Dataset train, Dataset validation, List<String> classNames, String source, InputFormat input,
        Normalization normalization) {

    /** One source, read. */
    private record Read(Dataset dataset, List<String> classNames, InputFormat input) {}

    /** Reads the job's data; the spec has passed {@link JobValidator}. */
    static JobData load(DataSpec spec, long seed, DataRoots roots) {
        requireEveryFileThere(spec, roots);
        String trainPath = "data.train." + kind(spec.getTrain());
        Read train = read(spec.getTrain(), "data.train", roots);
        // every label the same: the wrong label column, or a subset of the data; nothing to learn
        // (counted in the labels themselves: an IDX file's classes are 0..max, present or not)
        if (train.dataset().singleClass()) {
            throw InvalidJobException.of(trainPath, "the training data hold one class only ('"
                    + train.classNames().get(train.dataset().labels()[0]) + "'); a classifier needs at least two");
        }
        Dataset trainSet = train.dataset();
        Dataset validation = null;
        if (spec.hasValidation()) {
            Read val = read(spec.getValidation(), "data.validation", roots);
            validation = align(val, train, "data.validation");
        } else if (spec.hasValidationSplit()) {
            int rows = trainSet.rows();
            int nVal = (int) Math.round(rows * spec.getValidationSplit());
            if (nVal < 1 || nVal >= rows) {
                throw InvalidJobException.of("data.validation_split", "holding out "
                        + Errors.format(spec.getValidationSplit()) + " of " + rows + " rows leaves " + nVal
                        + " for validation and " + (rows - nVal) + " for training; both need ≥ 1");
            }
            Dataset.Split split = trainSet.split(seed, nVal);
            trainSet = split.rest();
            validation = split.heldOut();
        }
        List<String> classNames = train.classNames();
        InputFormat input = train.input();
        train = null; // the dataset as read is no longer needed: let it go before normalising
        String norm = spec.getNormalization().isEmpty() ? "none" : spec.getNormalization();
        Normalization fitted = Normalization.fit(Normalization.Kind.parse(norm), trainSet);
        fitted.applyInPlace(trainSet);
        trainSet.releaseExact();
        if (validation != null) {
            fitted.applyInPlace(validation);
            validation.releaseExact();
        }
        return new JobData(trainSet, validation, classNames, trainPath, input, fitted);
    }

    private static Read read(DataSource s, String path, DataRoots roots) {
        return switch (s.getKindCase()) {
            case IDX -> readIdx(existing(roots, s.getIdx().getImages(), path + ".idx.images"),
                    existing(roots, s.getIdx().getLabels(), path + ".idx.labels"), path + ".idx");
            case CSV -> readCsv(existing(roots, s.getCsv().getPath(), path + ".csv.path"), s.getCsv(), path + ".csv");
            case IMAGE_FOLDER -> readImages(existingFolder(roots, s.getImageFolder().getPath(), path + ".image_folder.path"),
                    s.getImageFolder().getWidth(),
                    s.getImageFolder().getHeight(), s.getImageFolder().getGrayscale(), path + ".image_folder", roots);
            default -> throw new IllegalStateException("validated sources have a kind: " + s.getKindCase());
        };
    }

    private static Read readIdx(Path images, Path labels, String path) {
        IdxReader.IdxArray x = readIdxFile(images, path + ".images");
        IdxReader.IdxArray y = readIdxFile(labels, path + ".labels");
        if (y.shape().length != 1) {
            throw InvalidJobException.of(path + ".labels", labels + " is not a label file: rank " + y.shape().length
                    + ", expected 1");
        }
        if (x.shape().length < 2) {
            throw InvalidJobException.of(path + ".images", images + " is not an image file: rank 1 (a label file?), "
                    + "expected [count, rows, columns] or similar");
        }
        if (x.shape()[0] != y.shape()[0]) {
            throw InvalidJobException.of(path + ".labels", labels + " holds " + y.shape()[0] + " labels but "
                    + images + " holds " + x.shape()[0] + " images");
        }
        if (x.shape()[0] == 0) {
            throw InvalidJobException.of(path + ".images", images + " holds no images");
        }
        float[] features = new float[x.data().length];
        for (int i = 0; i < features.length; i++) {
            features[i] = (x.data()[i] & 0xff) / 255f; // as IdxReader.readDataset and torchvision's ToTensor
        }
        int[] label = new int[y.shape()[0]];
        int classes = 0;
        for (int i = 0; i < label.length; i++) {
            label[i] = y.data()[i] & 0xff;
            classes = Math.max(classes, label[i] + 1);
        }
        List<String> names = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            names.add(Integer.toString(c));
        }
        List<Integer> imageShape = new ArrayList<>();
        for (int i = 1; i < x.shape().length; i++) {
            imageShape.add(x.shape()[i]);
        }
        return new Read(new Dataset(features, label, x.rowWidth(), classes), names, InputFormat.idx(imageShape));
    }

    private static IdxReader.IdxArray readIdxFile(Path file, String field) {
        requireFile(file, field);
        try {
            return IdxReader.read(file);
        } catch (IOException e) {
            throw fail(field, e);
        }
    }

    private static Read readCsv(Path file, CsvSource source, String path) {
        requireFile(file, path + ".path");
        String labelColumn = source.getLabelColumn();
        try {
            List<String> columns = CsvReader.header(file);
            if (!columns.contains(labelColumn)) {
                throw InvalidJobException.of(path + ".label_column", "'" + labelColumn + "' is not a column of "
                        + file + "; its columns: " + abbreviate(columns));
            }
            for (int i = 0; i < source.getIgnoreColumnsCount(); i++) {
                if (!columns.contains(source.getIgnoreColumns(i))) {
                    throw InvalidJobException.of(path + ".ignore_columns[" + i + "]", "'" + source.getIgnoreColumns(i)
                            + "' is not a column of " + file + "; its columns: " + abbreviate(columns));
                }
            }
            CsvReader.LabelledCsv csv = CsvReader.read(file, labelColumn, source.getIgnoreColumnsList());
            return new Read(csv.dataset(), csv.classNames(), InputFormat.csv(csv.featureNames()));
        } catch (IOException e) {
            throw fail(path + ".path", e);
        }
    }

    private static Read readImages(Path root, int width, int height, boolean grayscale, String path,
            DataRoots roots) {
        String field = path + ".path";
        try {
            ImageFolderReader.Listing listing = ImageFolderReader.list(root);
            for (ImageFolderReader.Entry e : listing.entries()) {
                // a link inside the folder must not lead out of the data roots
                if (!roots.contains(e.file())) {
                    throw InvalidJobException.of(field, e.file() + " leads outside the data roots " + roots
                            + roots.adviceFor(e.file()));
                }
            }
            ImageFolderReader.LabelledImages images = ImageFolderReader.read(listing, width, height, grayscale);
            return new Read(images.dataset(), images.classNames(),
                    InputFormat.imageFolder(images.channels(), images.height(), images.width()));
        } catch (IOException e) {
            throw fail(field, e);
        }
    }

    /** The validation set with its labels renumbered to the training classes. */
    private static Dataset align(Read val, Read train, String path) {
        Dataset v = byColumnName(val, train, path);
        InputFormat vf = val.input();
        InputFormat tf = train.input();
        // sources of one kind must agree on the shape; IDX and image folders say it differently
        // (28×28 against 1×28×28) and are compared by width below
        if (vf.kind() == tf.kind() && vf.kind() != InputFormat.Kind.CSV && !vf.shape().equals(tf.shape())) {
            String order = vf.kind() == InputFormat.Kind.IMAGE_FOLDER ? " (channels × height × width)" : "";
            throw InvalidJobException.of(path, "its images are " + dims(vf.shape()) + ", the training images "
                    + dims(tf.shape()) + order);
        }
        if (v.width() != train.dataset().width()) {
            throw InvalidJobException.of(path, "its rows have " + v.width() + " features, the training rows "
                    + train.dataset().width());
        }
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < train.classNames().size(); i++) {
            index.put(train.classNames().get(i), i);
        }
        int[] map = new int[val.classNames().size()];
        boolean[] used = new boolean[map.length];
        for (int label : v.labels()) {
            used[label] = true;
        }
        for (int i = 0; i < map.length; i++) {
            Integer j = index.get(val.classNames().get(i));
            // an IDX file's classes are 0..max, whether each occurs or not: only those that do count
            if (j == null && used[i]) {
                throw InvalidJobException.of(path, "class '" + val.classNames().get(i) + "' does not occur in the "
                        + "training data, whose classes are " + abbreviate(train.classNames()));
            }
            map[i] = j == null ? -1 : j;
        }
        int[] labels = new int[v.rows()];
        for (int r = 0; r < labels.length; r++) {
            labels[r] = map[v.labels()[r]];
        }
        return new Dataset(v.features(), v.exactFeatures(), labels, v.width(), train.dataset().classes());
    }

    /**
     * Validation CSV rows with their columns in the training file's order: a feature is its
     * column's name, not its position (a file exported with the columns in another order would
     * otherwise feed every feature into the wrong input, silently).
     */
    private static Dataset byColumnName(Read val, Read train, String path) {
        Dataset v = val.dataset();
        if (val.input().kind() != InputFormat.Kind.CSV || train.input().kind() != InputFormat.Kind.CSV) {
            return v;
        }
        List<String> want = train.input().columns();
        List<String> have = val.input().columns();
        if (want.equals(have)) {
            return v;
        }
        List<String> missing = new ArrayList<>(want);
        missing.removeAll(have);
        List<String> extra = new ArrayList<>(have);
        extra.removeAll(want);
        if (!missing.isEmpty() || !extra.isEmpty() || new HashSet<>(have).size() != have.size()
                || new HashSet<>(want).size() != want.size()) {
            throw InvalidJobException.of(path, "its feature columns are not the training data's: "
                    + (missing.isEmpty() ? "" : "missing " + abbreviate(missing) + (extra.isEmpty() ? "" : ", "))
                    + (extra.isEmpty() ? "" : "not in training " + abbreviate(extra))
                    + (missing.isEmpty() && extra.isEmpty() ? "a column named twice" : "")
                    + "; the training features are " + abbreviate(want)
                    + (extra.isEmpty() ? "" : " (a column that is no feature is left out with ignore_columns)"));
        }
        int width = want.size();
        int[] from = new int[width];
        for (int k = 0; k < width; k++) {
            from[k] = have.indexOf(want.get(k));
        }
        float[] in = v.features();
        float[] out = new float[in.length];
        double[] exactIn = v.exactFeatures();
        double[] exactOut = exactIn == null ? null : new double[exactIn.length];
        for (int r = 0; r < v.rows(); r++) {
            for (int k = 0; k < width; k++) {
                out[r * width + k] = in[r * width + from[k]];
                if (exactOut != null) {
                    exactOut[r * width + k] = exactIn[r * width + from[k]];
                }
            }
        }
        return new Dataset(out, exactOut, v.labels(), width, v.classes());
    }

    private static String dims(List<Integer> shape) {
        return shape.stream().map(String::valueOf).collect(Collectors.joining("×"));
    }

    /**
     * Refuses the job, naming every file and folder of its sources that is not there, so that a
     * user who moved the data learns of all of them at once rather than one per try.
     */
    private static void requireEveryFileThere(DataSpec spec, DataRoots roots) {
        List<FieldError> missing = new ArrayList<>();
        missingIn(spec.getTrain(), "data.train", roots, missing);
        if (spec.hasValidation()) {
            missingIn(spec.getValidation(), "data.validation", roots, missing);
        }
        if (!missing.isEmpty()) {
            throw new InvalidJobException(missing);
        }
    }

    private static void missingIn(DataSource s, String path, DataRoots roots, List<FieldError> missing) {
        switch (s.getKindCase()) {
            case IDX -> {
                missing(roots, s.getIdx().getImages(), path + ".idx.images", "no such file: ", missing);
                missing(roots, s.getIdx().getLabels(), path + ".idx.labels", "no such file: ", missing);
            }
            case CSV -> missing(roots, s.getCsv().getPath(), path + ".csv.path", "no such file: ", missing);
            case IMAGE_FOLDER -> missing(roots, s.getImageFolder().getPath(), path + ".image_folder.path",
                    "no such folder: ", missing);
            default -> { } // validated sources have a kind; read() says so if not
        }
    }

    private static void missing(DataRoots roots, String pathInJob, String field, String what,
            List<FieldError> missing) {
        String why = absence(roots, pathInJob, what);
        if (why != null) {
            missing.add(new FieldError(field, why));
        }
    }

    /** Null when the path is there, else what is missing and where a relative path was looked for. */
    private static String absence(DataRoots roots, String pathInJob, String what) {
        Path p = roots.resolve(pathInJob);
        return Files.exists(p) ? null : what + p + roots.lookedUp(pathInJob);
    }

    /** The file a job names, resolved; one that does not exist is refused, saying where it was looked for. */
    private static Path existing(DataRoots roots, String pathInJob, String field) {
        return existing(roots, pathInJob, field, "no such file: ");
    }

    /** As {@link #existing(DataRoots, String, String)}, for a folder. */
    private static Path existingFolder(DataRoots roots, String pathInJob, String field) {
        return existing(roots, pathInJob, field, "no such folder: ");
    }

    private static Path existing(DataRoots roots, String pathInJob, String field, String what) {
        String why = absence(roots, pathInJob, what);
        if (why != null) {
            throw InvalidJobException.of(field, why);
        }
        return roots.resolve(pathInJob);
    }

    private static void requireFile(Path file, String field) {
        if (!Files.isRegularFile(file)) {
            throw InvalidJobException.of(field, Files.exists(file) ? file + " is not a regular file"
                    : "no such file: " + file);
        }
    }

    private static InvalidJobException fail(String field, IOException e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        // the JDK's file exceptions without a reason hold only the path: say what is wrong with it
        if (e instanceof java.nio.file.FileSystemException fse && fse.getReason() == null && fse.getFile() != null) {
            m = e instanceof java.nio.file.AccessDeniedException ? "permission denied: " + fse.getFile()
                    + " (not readable by this process's user)"
                    : e instanceof java.nio.file.NoSuchFileException ? "no such file: " + fse.getFile()
                    : fse.getFile() + ": " + e.getClass().getSimpleName();
        }
        return new InvalidJobException(List.of(new FieldError(field, m)), e);
    }

    private static String kind(DataSource s) {
        return s.getKindCase().name().toLowerCase(java.util.Locale.ROOT);
    }

    private static String abbreviate(List<String> names) {
        return names.size() <= 20 ? names.toString()
                : names.subList(0, 20) + " and " + (names.size() - 20) + " more";
    }
}
