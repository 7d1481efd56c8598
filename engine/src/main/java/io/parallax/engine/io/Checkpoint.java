package io.parallax.engine.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.optim.OptimizerState;
import io.parallax.engine.optim.ParameterGroups;
import io.parallax.engine.train.TrainingPosition;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * A training checkpoint: a {@link ModelFile} with the optimizer's state and the trainer's
 * {@link TrainingPosition} added, so a run resumes exactly where it stopped (N steps, save,
 * load, M steps gives the bits of N+M straight steps).
 *
 * <p>One safetensors file. The model's tensors keep their PyTorch state_dict names, so the file
 * still loads into PyTorch's {@code nn.Sequential} with {@code load_state_dict(strict=False)}
 * and into {@link ModelFile#load} (which lists the optimizer tensors as unused). The optimizer's
 * per-element buffers are F32 tensors {@code optimizer.<state name>} ({@code optimizer.exp_avg},
 * …) of shape [trainable elements], in the flat layout of its {@link ParameterGroups} with
 * frozen segments left out. Metadata, besides the model file's:
 * <ul>
 *   <li>{@value #POSITION_KEY}: {@code {"epoch", "step_in_epoch", "global_step", "seed",
 *       "batch_size"}};
 *   <li>{@value #OPTIMIZER_KEY}: {@code {"kind": "Adam", "hyperparameters": "Adam(lr=…, …)",
 *       "groups": [{"name", "offset", "length", "lr_scale", "weight_decay", "frozen"}, …],
 *       "counters": {"step", "skipped_steps"}, "scalars": {"lr", …}}};
 *   <li>{@value #CHECKSUM_KEY}: the CRC-32C of the whole file (these digits summed as zeros),
 *       which {@link #load} checks first, so a checkpoint damaged on disk, in its position or its
 *       weights, is refused as such rather than resumed from (files saved before 2026-11-23
 *       have none and load unchecked).
 * </ul>
 *
 * <p>{@link #load} restores into a model and an optimizer the caller has built (the same
 * architecture; the same optimizer kind, hyperparameters and parameter groups) and checks
 * everything it can before it changes anything: a different architecture, optimizer kind,
 * layout or hyperparameter is refused with a message naming the difference, and leaves both as
 * they were. The learning rate is state, not a hyperparameter: it is restored from the file.
 *
 * <pre>{@code
 * Checkpoint.save(path, model, optimizer, trainer.position());
 * // later, in a new process: build the same model, optimizer and trainer, then
 * TrainingPosition at = Checkpoint.load(path, model, optimizer);
 * trainer.resume(at);
 * trainer.fit(train, validation, onEpoch);
 * }</pre>
 */
public final class Checkpoint {

    /** Name prefix of the optimizer's state tensors. */
    public static final String OPTIMIZER_PREFIX = "optimizer.";
    /** Metadata key of the training position (JSON). */
    public static final String POSITION_KEY = "parallax.checkpoint";
    /** Metadata key of the optimizer's kind, hyperparameters, layout, counters and scalars (JSON). */
    public static final String OPTIMIZER_KEY = "parallax.optimizer";
    /** Metadata key of the CRC-32C of the whole file (8 hex digits). */
    public static final String CHECKSUM_KEY = "parallax.crc32c";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Checkpoint() {}

    /** What the optimizer metadata holds; field names are the JSON keys. */
    private record OptimizerEntry(String kind, String hyperparameters, List<Map<String, Object>> groups,
            Map<String, Long> counters, Map<String, Double> scalars) {}

    /**
     * Writes the model, the optimizer's state and {@code position} atomically (temporary file,
     * then a move) to {@code path}.
     *
     * @throws IllegalArgumentException if the optimizer was not built for this model's parameters
     */
    public static void save(Path path, Sequential model, Optimizer optimizer, TrainingPosition position)
            throws IOException {
        save(path, model, optimizer, position, Map.of());
    }

    /**
     * As {@link #save(Path, Sequential, Optimizer, TrainingPosition)}, with {@code extra}
     * metadata entries of the caller's beside the checkpoint's own ({@link #readMetadata} gives
     * them back): what a caller needs to go on besides the position, such as the loss summed over
     * the part of an epoch already trained.
     *
     * @throws IllegalArgumentException if an extra key is {@code format} or begins with
     *                                  {@code parallax.}, as the file's own do
     */
    public static void save(Path path, Sequential model, Optimizer optimizer, TrainingPosition position,
            Map<String, String> extra) throws IOException {
        Objects.requireNonNull(position, "position");
        for (String key : extra.keySet()) {
            // the file's own keys are "format" and "parallax.…": an extra one must not replace them
            if (key.startsWith("parallax.") || key.equals("format")) {
                throw new IllegalArgumentException("extra checkpoint metadata may not use the key '" + key
                        + "' (\"format\" and \"parallax.…\" are the file's own)");
            }
        }
        if (optimizer.groups().size() != model.parameterCount()) {
            throw new IllegalArgumentException("the optimizer was built for " + optimizer.groups().size()
                    + " parameters, the model has " + model.parameterCount());
        }
        OptimizerState state = optimizer.state();
        SafeTensorsWriter writer = new SafeTensorsWriter();
        ModelFile.putModel(writer, model);
        for (Map.Entry<String, float[]> e : state.tensors().entrySet()) {
            writer.putFloats(OPTIMIZER_PREFIX + e.getKey(), e.getValue(), e.getValue().length);
        }
        extra.forEach(writer::putMetadata);
        writer.putMetadata(POSITION_KEY, json(positionMap(position)));
        writer.putMetadata(OPTIMIZER_KEY, json(new OptimizerEntry(state.optimizer(), optimizer.toString(),
                groups(optimizer.groups()), state.counters(), state.scalars())));
        writer.checksum(CHECKSUM_KEY).write(path);
    }

    /**
     * Restores the model's tensors and the optimizer's state from a checkpoint and returns the
     * position to {@code Trainer.resume} at. {@code model} and {@code optimizer} are built by
     * the caller as for the saved run (initial weights do not matter); on any failure both are
     * left as they were.
     *
     * @throws IllegalArgumentException the checkpoint is for another architecture, optimizer
     *     kind, parameter-group layout or hyperparameters (the message names the difference)
     * @throws SafeTensorsException the file is malformed, truncated or damaged (its bytes do not
     *     match their checksum), or is a model file without a checkpoint's metadata
     */
    public static TrainingPosition load(Path path, Sequential model, Optimizer optimizer) throws IOException {
        try (SafeTensorsReader reader = SafeTensorsReader.open(path)) {
            reader.verifyChecksum(CHECKSUM_KEY);
            ModelDescription saved = ModelFile.description(reader);
            TrainingPosition position = position(reader);
            OptimizerEntry entry = optimizerEntry(reader);
            String architecture = difference(saved, ModelDescription.of(model));
            if (architecture != null) {
                throw new IllegalArgumentException(path + " is a checkpoint of another model: " + architecture);
            }
            OptimizerState before = optimizer.state();
            if (!entry.kind().equals(before.optimizer())) {
                throw new IllegalArgumentException(path + " holds the state of the optimizer " + entry.kind() + " ("
                        + entry.hyperparameters() + "), this optimizer is " + before.optimizer() + " (" + optimizer
                        + ")");
            }
            String layout = groupsDifference(entry.groups(), groups(optimizer.groups()));
            if (layout != null) {
                throw new IllegalArgumentException(path + " was saved with other parameter groups: " + layout);
            }
            OptimizerState state = new OptimizerState(entry.kind(), readBuffers(reader, before, optimizer.groups()),
                    entry.counters(), entry.scalars());
            optimizer.loadState(state); // checks names, lengths, counters and scalars before it writes
            try {
                String hyper = hyperparameterDifference(entry.hyperparameters(), optimizer.toString());
                if (hyper != null) {
                    throw new IllegalArgumentException(path + " was saved by an optimizer with other hyperparameters: "
                            + hyper + " (checkpoint: " + entry.hyperparameters() + "; this optimizer, with the "
                            + "checkpoint's learning rate: " + optimizer + ")");
                }
                ModelFile.loadInto(model, reader, LoadOptions.STRICT);
            } catch (IOException | RuntimeException e) {
                optimizer.loadState(before);
                throw e;
            }
            return position;
        }
    }

    /** Every metadata entry of a checkpoint (the extra ones a caller saved included), without loading anything else. */
    public static Map<String, String> readMetadata(Path path) throws IOException {
        try (SafeTensorsReader reader = SafeTensorsReader.open(path)) {
            return Map.copyOf(reader.metadata());
        }
    }

    /** The training position stored in a checkpoint, without loading anything else. */
    public static TrainingPosition readPosition(Path path) throws IOException {
        try (SafeTensorsReader reader = SafeTensorsReader.open(path)) {
            return position(reader);
        }
    }

    // ---- metadata -------------------------------------------------------------------------

    private static Map<String, Object> positionMap(TrainingPosition p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epoch", p.epoch());
        m.put("step_in_epoch", p.stepInEpoch());
        m.put("global_step", p.globalStep());
        m.put("seed", p.seed());
        m.put("batch_size", p.batchSize());
        return m;
    }

    private static TrainingPosition position(SafeTensorsReader reader) throws SafeTensorsException {
        String json = reader.metadata().get(POSITION_KEY);
        if (json == null) {
            throw new SafeTensorsException(reader.file(), "not a checkpoint: no training position (metadata '"
                    + POSITION_KEY + "'); a model file holds weights only, load it with ModelFile");
        }
        try {
            Map<String, Long> m = JSON.readValue(json, new TypeReference<LinkedHashMap<String, Long>>() {});
            if (m == null || !m.keySet().equals(positionMap(new TrainingPosition(0, 0, 0, 0, 1)).keySet())
                    || m.containsValue(null)) {
                throw new IllegalArgumentException("expected the keys epoch, step_in_epoch, global_step, seed, "
                        + "batch_size, got " + json);
            }
            return new TrainingPosition(Math.toIntExact(m.get("epoch")), m.get("step_in_epoch"), m.get("global_step"),
                    m.get("seed"), Math.toIntExact(m.get("batch_size")));
        } catch (JsonProcessingException | IllegalArgumentException | ArithmeticException e) {
            throw new SafeTensorsException(reader.file(), "metadata '" + POSITION_KEY + "' is not a valid training "
                    + "position: " + message(e), e);
        }
    }

    private static OptimizerEntry optimizerEntry(SafeTensorsReader reader) throws SafeTensorsException {
        String json = reader.metadata().get(OPTIMIZER_KEY);
        if (json == null) {
            throw new SafeTensorsException(reader.file(), "not a checkpoint: no optimizer (metadata '"
                    + OPTIMIZER_KEY + "')");
        }
        try {
            OptimizerEntry e = JSON.readValue(json, OptimizerEntry.class);
            if (e == null || e.kind() == null || e.hyperparameters() == null || e.groups() == null
                    || e.counters() == null || e.scalars() == null) {
                throw new IllegalArgumentException("expected kind, hyperparameters, groups, counters and scalars, got "
                        + json);
            }
            return e;
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new SafeTensorsException(reader.file(), "metadata '" + OPTIMIZER_KEY + "' is malformed: "
                    + message(e), e);
        }
    }

    private static String message(Exception e) {
        return e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            // maps of strings, numbers and booleans only
            throw new IllegalStateException("cannot write checkpoint metadata: " + e.getOriginalMessage(), e);
        }
    }

    /** A layout as JSON-friendly maps, one per segment. */
    private static List<Map<String, Object>> groups(ParameterGroups groups) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (ParameterGroups.Segment s : groups.segments()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", s.name());
            m.put("offset", s.offset());
            m.put("length", s.length());
            m.put("lr_scale", s.lrScale());
            m.put("weight_decay", s.weightDecay());
            m.put("frozen", s.frozen());
            out.add(m);
        }
        return out;
    }

    // ---- optimizer tensors ----------------------------------------------------------------

    /** The file's optimizer buffers, checked against what {@code current} holds, read whole. */
    private static Map<String, float[]> readBuffers(SafeTensorsReader reader, OptimizerState current,
            ParameterGroups groups) throws IOException {
        TreeSet<String> inFile = new TreeSet<>();
        for (TensorInfo t : reader.tensors()) {
            if (t.name().startsWith(OPTIMIZER_PREFIX)) {
                inFile.add(t.name().substring(OPTIMIZER_PREFIX.length()));
            }
        }
        if (!inFile.equals(new TreeSet<>(current.tensors().keySet()))) {
            throw new IllegalArgumentException(reader.file() + " holds " + current.optimizer() + " state tensors "
                    + inFile + " but this optimizer (" + current.optimizer() + ") keeps "
                    + current.tensors().keySet() + " (another option, e.g. amsgrad, centered or momentum?)");
        }
        Map<String, float[]> buffers = new LinkedHashMap<>();
        for (String name : current.tensors().keySet()) {
            TensorInfo t = reader.info(OPTIMIZER_PREFIX + name);
            if (t.dtype() != DType.F32 || !t.hasShape(new int[] {groups.trainableSize()})) {
                throw new IllegalArgumentException(reader.file() + ": optimizer tensor '" + t.name() + "' is "
                        + t.dtype() + " " + Arrays.toString(t.shape()) + ", this optimizer needs F32 ["
                        + groups.trainableSize() + "] (its trainable elements)");
            }
            buffers.put(name, reader.readFloats(t.name()));
        }
        return buffers;
    }

    // ---- differences ----------------------------------------------------------------------

    /** What differs between two architectures, or null when they are the same. */
    static String difference(ModelDescription file, ModelDescription model) {
        List<String> out = new ArrayList<>();
        if (file.inputFeatures() != model.inputFeatures()) {
            out.add("input features: checkpoint " + file.inputFeatures() + ", model " + model.inputFeatures());
        }
        int n = Math.min(file.layers().size(), model.layers().size());
        for (int i = 0; i < n; i++) {
            String a = layerJson(file.layers().get(i));
            String b = layerJson(model.layers().get(i));
            if (!a.equals(b)) {
                out.add("layer " + i + ": checkpoint " + a + ", model " + b);
            }
        }
        if (file.layers().size() != model.layers().size()) {
            out.add(0, "checkpoint has " + file.layers().size() + " layers, model " + model.layers().size());
        }
        return capped(out);
    }

    /** The differences joined, the first few only: a deep model could list hundreds. */
    private static String capped(List<String> differences) {
        if (differences.isEmpty()) {
            return null;
        }
        int shown = Math.min(differences.size(), 4);
        String head = String.join("; ", differences.subList(0, shown));
        return shown == differences.size() ? head : head + "; and " + (differences.size() - shown) + " more";
    }

    private static String layerJson(ModelDescription.LayerDescription d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", d.type());
        m.put("config", d.config());
        return json(m);
    }

    private static String groupsDifference(List<Map<String, Object>> file, List<Map<String, Object>> current) {
        List<String> out = new ArrayList<>();
        int n = Math.min(file.size(), current.size());
        for (int i = 0; i < n; i++) {
            // through JSON, so 1 and 1.0 or Integer and Long compare as written
            String a = json(file.get(i));
            String b = json(current.get(i));
            if (!a.equals(b)) {
                out.add("segment " + i + ": checkpoint " + a + ", this optimizer " + b);
            }
        }
        if (file.size() != current.size()) {
            out.add(0, "checkpoint has " + file.size() + " segments, this optimizer " + current.size());
        }
        return capped(out);
    }

    /**
     * The hyperparameters that differ between two optimizer descriptions of the form
     * {@code Kind(name=value, …)}, or null when they are equal.
     */
    static String hyperparameterDifference(String file, String current) {
        if (file.equals(current)) {
            return null;
        }
        Map<String, String> a = hyperparameters(file);
        Map<String, String> b = hyperparameters(current);
        if (a == null || b == null || !a.keySet().equals(b.keySet())) {
            return "checkpoint " + file + ", this optimizer " + current;
        }
        List<String> out = new ArrayList<>();
        a.forEach((k, v) -> {
            if (!v.equals(b.get(k))) {
                out.add(k + ": checkpoint " + v + ", this optimizer " + b.get(k));
            }
        });
        return String.join("; ", out);
    }

    /** {@code Kind(a=1, betas=(0.9, 0.999))} → {a=1, betas=(0.9, 0.999)}; null if not of that form. */
    private static Map<String, String> hyperparameters(String description) {
        int open = description.indexOf('(');
        if (open < 0 || !description.endsWith(")")) {
            return null;
        }
        Map<String, String> out = new LinkedHashMap<>();
        String body = description.substring(open + 1, description.length() - 1);
        int depth = 0;
        int start = 0;
        for (int i = 0; i <= body.length(); i++) {
            char c = i < body.length() ? body.charAt(i) : ',';
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (c == ',' && depth == 0) {
                String item = body.substring(start, i).trim();
                int eq = item.indexOf('=');
                if (eq <= 0) {
                    return null;
                }
                out.put(item.substring(0, eq), item.substring(eq + 1));
                start = i + 1;
            }
        }
        return out;
    }
}
