package io.parallax.engine.io;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.data.InputFormat;
import io.parallax.engine.data.Normalization;
import io.parallax.engine.data.Preprocessing;
import io.parallax.engine.layer.BatchNorm1d;
import io.parallax.engine.layer.Layer;
import io.parallax.engine.model.NamedTensor;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Saves and loads a {@link Sequential} as a safetensors file with PyTorch {@code nn.Sequential}
 * state_dict names and layouts, so the same file loads into PyTorch with
 * {@code load_state_dict(strict=True)} and a file saved from PyTorch loads here.
 *
 * <p>Tensors: {@code i.weight} ([out, in] for Linear), {@code i.bias}, and for BatchNorm1d
 * {@code i.weight}, {@code i.bias} (when affine), {@code i.running_mean}, {@code i.running_var}
 * (F32) and {@code i.num_batches_tracked} (I64, shape {@code []}). Metadata: {@code format=pt}
 * (the ecosystem's marker for PyTorch tensors), {@link #VERSION_KEY} and {@link #MODEL_KEY}, the
 * {@link ModelDescription} as JSON, from which {@link #load} rebuilds the model.
 *
 * <p>A {@link Checkpoint} is a model file with the optimizer's state added (tensors under
 * {@link Checkpoint#OPTIMIZER_PREFIX}); the methods here load its model part and list those
 * tensors as unused.
 *
 * <p>Frozen flags and the train/eval mode are not saved: they belong to a training run, not to
 * the model. A loaded model starts in training mode, like any new model (and like PyTorch).
 */
public final class ModelFile {

    /** Metadata key of the model description (JSON). */
    public static final String MODEL_KEY = "parallax.model";
    /** Metadata key of the file format version. */
    public static final String VERSION_KEY = "parallax.format_version";
    /** The format version this code writes and the newest it reads. */
    public static final int FORMAT_VERSION = 1;
    /** Metadata key of how the training data's rows were read (JSON, see {@link InputFormat}). */
    public static final String INPUT_FORMAT_KEY = "parallax.input_format";
    /** Metadata key of the training data's input normalisation (JSON, see {@link Preprocessing}). */
    public static final String NORMALIZATION_KEY = "parallax.input_normalization";
    /** Metadata key of the class names, index = output (a JSON array). */
    public static final String CLASSES_KEY = "parallax.classes";

    private static final String NUM_BATCHES_TRACKED = "num_batches_tracked";

    private ModelFile() {}

    /** Writes every parameter and buffer of {@code model}, with its description, atomically to {@code path}. */
    public static void save(Sequential model, Path path) throws IOException {
        save(model, path, Map.of());
    }

    /**
     * As {@link #save(Sequential, Path)}, plus caller metadata (e.g. the epoch); keys starting
     * with {@code parallax.} and {@code format} are reserved.
     */
    public static void save(Sequential model, Path path, Map<String, String> extraMetadata) throws IOException {
        save(model, path, extraMetadata, null);
    }

    /**
     * As {@link #save(Sequential, Path)}, plus what the model expects around it: the input
     * normalisation of its training data ({@value #NORMALIZATION_KEY}) and its class names
     * ({@value #CLASSES_KEY}); see {@link Preprocessing}.
     */
    public static void save(Sequential model, Path path, Preprocessing preprocessing) throws IOException {
        save(model, path, Map.of(), preprocessing);
    }

    private static void save(Sequential model, Path path, Map<String, String> extraMetadata,
            Preprocessing preprocessing) throws IOException {
        SafeTensorsWriter writer = new SafeTensorsWriter();
        if (preprocessing != null) {
            Normalization n = preprocessing.normalization();
            if (n != null && n.kind() != Normalization.Kind.NONE && n.width() != model.inputFeatures()) {
                throw new IllegalArgumentException("the normalisation has " + n.width() + " features, the model "
                        + model.inputFeatures());
            }
            InputFormat input = preprocessing.input();
            if (input != null && input.features() != model.inputFeatures()) {
                throw new IllegalArgumentException("the input format has " + input.features() + " features, the model "
                        + model.inputFeatures());
            }
            if (input != null) {
                writer.putMetadata(INPUT_FORMAT_KEY, input.toJson());
            }
            String normalization = preprocessing.normalizationJson();
            if (normalization != null) {
                writer.putMetadata(NORMALIZATION_KEY, normalization);
            }
            if (!preprocessing.classNames().isEmpty()) {
                writer.putMetadata(CLASSES_KEY, preprocessing.classNamesJson());
            }
        }
        extraMetadata.forEach((k, v) -> {
            if (k.startsWith("parallax.") || k.equals("format")) {
                throw new IllegalArgumentException("metadata key '" + k + "' is reserved");
            }
            writer.putMetadata(k, v);
        });
        putModel(writer, model);
        writer.write(path);
    }

    /**
     * What a file lacking the model's names holds instead (its first names), and the prefix they
     * share when every missing name is in it under one: a PyTorch submodule's keys
     * ({@code body.0.weight}) where the model wants {@code 0.weight}.
     */
    private static String holds(SafeTensorsReader reader, List<String> missing) {
        List<String> names = reader.tensors().stream().map(TensorInfo::name)
                .filter(n -> !n.startsWith(Checkpoint.OPTIMIZER_PREFIX)).toList();
        if (names.isEmpty()) {
            return "; the file holds no tensor";
        }
        int shown = Math.min(names.size(), 8);
        String list = String.join(", ", names.subList(0, shown)) + (names.size() > shown ? ", … ("
                + names.size() + " in all)" : "");
        String first = missing.get(0);
        String prefix = names.stream().filter(n -> n.endsWith("." + first))
                .map(n -> n.substring(0, n.length() - first.length())).findFirst().orElse(null);
        boolean shared = prefix != null && missing.stream().allMatch(m -> names.contains(prefix + m));
        return "; the file holds " + list + (shared ? " (the model's names under the prefix '" + prefix
                + "': save that submodule's own state_dict, or strip the prefix from the names)" : "");
    }

    /** Adds the model's tensors and the format, version and description metadata to {@code writer}. */
    static void putModel(SafeTensorsWriter writer, Sequential model) {
        writer.putMetadata("format", "pt");
        writer.putMetadata(VERSION_KEY, Integer.toString(FORMAT_VERSION));
        writer.putMetadata(MODEL_KEY, ModelDescription.of(model).toJson());
        for (Slot s : slots(model)) {
            if (s.batchNorm != null) {
                writer.putLongs(s.name, new long[] {s.batchNorm.numBatchesTracked()});
            } else {
                writer.putFloats(s.name, s.tensor);
            }
        }
    }

    /** Rebuilds a saved model on the default backend from the description in the file's metadata. */
    public static Sequential load(Path path) throws IOException {
        return load(path, Backends.getDefault());
    }

    /**
     * Rebuilds a saved model on {@code backend}. A file without a description (one written by
     * PyTorch) cannot be loaded this way: build the model and use {@link #loadInto}.
     */
    public static Sequential load(Path path, Backend backend) throws IOException {
        try (SafeTensorsReader reader = SafeTensorsReader.open(path)) {
            ModelDescription description = description(reader);
            Sequential model;
            try {
                model = description.build(backend, 0);
            } catch (IllegalArgumentException e) {
                throw new SafeTensorsException(path, "metadata '" + MODEL_KEY + "' does not describe a valid model: "
                        + e.getMessage(), e);
            }
            try {
                loadInto(model, reader, LoadOptions.STRICT);
            } catch (IllegalArgumentException e) {
                throw new SafeTensorsException(path, "tensors do not match the file's own model description: "
                        + e.getMessage(), e);
            }
            return model;
        }
    }

    /**
     * The input format, normalisation and class names saved with the model, without loading any
     * tensor; empty for a file that has none of them (written by PyTorch, or without them).
     *
     * @throws SafeTensorsException if they are there but malformed
     */
    public static Optional<Preprocessing> readPreprocessing(Path path) throws IOException {
        try (SafeTensorsReader reader = SafeTensorsReader.open(path)) {
            String input = reader.metadata().get(INPUT_FORMAT_KEY);
            String normalization = reader.metadata().get(NORMALIZATION_KEY);
            String classes = reader.metadata().get(CLASSES_KEY);
            if (input == null && normalization == null && classes == null) {
                return Optional.empty();
            }
            try {
                return Optional.of(Preprocessing.fromJson(input, normalization, classes));
            } catch (IllegalArgumentException e) {
                throw new SafeTensorsException(path, "metadata '" + INPUT_FORMAT_KEY + "', '" + NORMALIZATION_KEY
                        + "' or '" + CLASSES_KEY + "': " + e.getMessage(), e);
            }
        }
    }

    /** The model description in a file's metadata, without loading any tensor. */
    public static ModelDescription readDescription(Path path) throws IOException {
        try (SafeTensorsReader reader = SafeTensorsReader.open(path)) {
            return description(reader);
        }
    }

    /** Fills {@code model} with every tensor of the file; the file and the model must match exactly. */
    public static LoadResult loadInto(Sequential model, Path path) throws IOException {
        return loadInto(model, path, LoadOptions.STRICT);
    }

    /**
     * Fills {@code model}'s layers as {@code options} say (all or the first k; strict or not).
     * Every check is made before any value is written, so a mismatch leaves the model as it was.
     *
     * @throws IllegalArgumentException the file does not fit the model: a shape or dtype mismatch
     *     (naming the tensor and both shapes), or, when strict, missing or unexpected tensors
     * @throws SafeTensorsException the file is not a well-formed safetensors file
     */
    public static LoadResult loadInto(Sequential model, Path path, LoadOptions options) throws IOException {
        try (SafeTensorsReader reader = SafeTensorsReader.open(path)) {
            return loadInto(model, reader, options);
        }
    }

    static ModelDescription description(SafeTensorsReader reader) throws SafeTensorsException {
        Path file = reader.file();
        String json = reader.metadata().get(MODEL_KEY);
        if (json == null) {
            throw new SafeTensorsException(file, "no model description (metadata '" + MODEL_KEY + "'); a file "
                    + "written by PyTorch holds weights only: build the model and use ModelFile.loadInto");
        }
        checkVersion(file, reader.metadata().get(VERSION_KEY));
        try {
            return ModelDescription.fromJson(json);
        } catch (IllegalArgumentException e) {
            throw new SafeTensorsException(file, "metadata '" + MODEL_KEY + "': " + e.getMessage(), e);
        }
    }

    /** Refuses a format version this code cannot read ({@code null}: none, a file PyTorch wrote, is refused too). */
    private static void checkVersion(Path file, String version) throws SafeTensorsException {
        int v;
        try {
            v = Integer.parseInt(String.valueOf(version));
        } catch (NumberFormatException e) {
            throw new SafeTensorsException(file, "metadata '" + VERSION_KEY + "' must be a whole number, got " + version);
        }
        if (v < 1 || v > FORMAT_VERSION) {
            throw new SafeTensorsException(file, "format version " + v + " is not readable here (this code reads 1.."
                    + FORMAT_VERSION + "; a newer Parallax wrote it?)");
        }
    }

    static LoadResult loadInto(Sequential model, SafeTensorsReader reader, LoadOptions options)
            throws IOException {
        // a file PyTorch wrote has no version; one a newer Parallax wrote is refused here too,
        // not only by load(): its layout may mean something else
        String version = reader.metadata().get(VERSION_KEY);
        if (version != null) {
            checkVersion(reader.file(), version);
        }
        int layerCount = model.layers().size();
        if (options.layers() > layerCount) {
            throw new IllegalArgumentException("cannot load the first " + options.layers() + " layers of a model with "
                    + layerCount + ": " + model);
        }
        Path file = reader.file();
        Map<String, Slot> wanted = new LinkedHashMap<>();
        for (Slot s : slots(model)) {
            if (options.loads(s.layer)) {
                wanted.put(s.name, s);
            }
        }
        List<String> missing = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<String> unused = new ArrayList<>();
        List<String> mismatches = new ArrayList<>();
        List<Slot> toLoad = new ArrayList<>();
        List<BatchNorm1d> untracked = new ArrayList<>();
        for (Slot s : wanted.values()) {
            if (!reader.contains(s.name)) {
                if (s.batchNorm != null) {
                    // as PyTorch's BatchNorm loads a state_dict without it (older files, converters): 0
                    untracked.add(s.batchNorm);
                } else {
                    missing.add(s.name);
                }
                continue;
            }
            TensorInfo t = reader.info(s.name);
            if (!t.hasShape(s.shape)) {
                mismatches.add("tensor '" + s.name + "': file has " + Arrays.toString(t.shape()) + ", model has "
                        + Arrays.toString(s.shape));
            } else if (s.batchNorm != null ? !t.dtype().readableAsLong() : !t.dtype().readableAsFloat()) {
                mismatches.add("tensor '" + s.name + "': file has dtype " + t.dtype() + ", model needs "
                        + (s.batchNorm != null ? "an integer (I64)" : "a float (F32, F64, F16, BF16)"));
            } else {
                toLoad.add(s);
            }
        }
        for (TensorInfo t : reader.tensors()) {
            if (t.name().startsWith(Checkpoint.OPTIMIZER_PREFIX)) {
                unused.add(t.name()); // a checkpoint's optimizer state: not the model's, never unexpected
            } else if (!wanted.containsKey(t.name())) {
                int layer = layerOf(t.name());
                boolean inScope = options.layers() < 0 || (layer >= 0 && options.loads(layer));
                (inScope ? unexpected : unused).add(t.name());
            }
        }
        if (!mismatches.isEmpty()) {
            throw new IllegalArgumentException(file + " does not fit the model: " + String.join("; ", mismatches));
        }
        if (options.strict() && (!missing.isEmpty() || !unexpected.isEmpty())) {
            throw new IllegalArgumentException(file + " does not fit the model"
                    + (missing.isEmpty() ? "" : "; missing in the file: " + missing + holds(reader, missing))
                    + (unexpected.isEmpty() ? "" : "; unexpected in the file: " + unexpected)
                    + (options.layers() < 0 ? " (to load a model's first k layers only: init_from_layers in a job, "
                            + "LoadOptions.firstLayers(k) in Java)" : ""));
        }
        untracked.forEach(bn -> bn.setNumBatchesTracked(0));
        List<String> loaded = new ArrayList<>();
        for (Slot s : toLoad) {
            if (s.batchNorm != null) {
                s.batchNorm.setNumBatchesTracked(reader.readLongs(s.name)[0]);
            } else {
                reader.readInto(s.name, s.tensor);
            }
            loaded.add(s.name);
        }
        unused.addAll(unexpected);
        return new LoadResult(loaded, missing, unused);
    }

    /** The layer index a state_dict name starts with ({@code "12.weight"} → 12), or −1. */
    private static int layerOf(String name) {
        int dot = name.indexOf('.');
        if (dot <= 0 || dot > 9) {
            return -1;
        }
        for (int i = 0; i < dot; i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return -1;
            }
        }
        return Integer.parseInt(name.substring(0, dot));
    }

    /** One state_dict entry of the model: a float tensor, or a BatchNorm1d's num_batches_tracked. */
    private record Slot(String name, int layer, int[] shape, Tensor tensor, BatchNorm1d batchNorm) {}

    /** The model's state_dict in PyTorch's order: per layer, parameters, then buffers, then num_batches_tracked. */
    private static List<Slot> slots(Sequential model) {
        List<Slot> slots = new ArrayList<>();
        for (List<NamedTensor> group : List.of(model.namedParameters(), model.namedBuffers())) {
            for (NamedTensor t : group) {
                slots.add(new Slot(t.name(), t.layer().index(), t.tensor().shape(), t.tensor(), null));
            }
        }
        for (Layer layer : model.layers()) {
            if (layer instanceof BatchNorm1d bn) {
                slots.add(new Slot(layer.index() + "." + NUM_BATCHES_TRACKED, layer.index(), new int[0], null, bn));
            }
        }
        slots.sort(Comparator.comparingInt(Slot::layer)); // stable: keeps the order within a layer
        return slots;
    }
}
