package io.parallax.coordinator.metrics;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Writes one JSON object per epoch, one per line, flushed as each epoch ends:
 *
 * <pre>
 * {"epoch":1,"train_loss":0.52,"val_loss":0.44,"val_accuracy":0.84,"samples_per_second":41000.0,
 *  "elapsed_seconds":1.4,"learning_rate":0.001,"workers":2,"redone_steps":0,
 *  "plane_ms_per_step":0.8,"plane_bytes_per_step":1048576,"steps":469,
 *  "step_ms":1.1,"wait_ms":0.8,"fetch_ms":0.1,"compute_ms":1.2,"push_ms":0.01,"sum_ms":0.05,"update_ms":0.2}
 * </pre>
 *
 * {@code epoch} counts from 1; losses are means per sample; {@code elapsed_seconds} runs from the
 * job's start; the {@code plane_*} fields average the epoch's steps, summed over workers; the
 * {@code *_ms} fields say where the epoch's steps went on average ({@link StepPhases}: the
 * coordinator's whole step, its wait for the workers, the workers' fetch, compute and push summed
 * over workers, the coordinator's sum and update). NaN
 * ("not measured", e.g. no validation set) and infinities, which JSON cannot hold, are written as
 * {@code null}.
 */
public final class JsonLinesMetrics implements MetricsSink {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private BufferedWriter out;
    private IOException failure;
    private long steps;
    private long planeNanos;
    private long planeBytes;
    private final long[] phases = new long[7];

    /** Creates (or truncates) {@code file}, and its folder if missing. */
    public JsonLinesMetrics(Path file) throws IOException {
        this(file, 0);
    }

    /**
     * Creates {@code file} (and its folder if missing), keeping the lines of its first
     * {@code keepEpochs} epochs if it exists: a job resumed from a checkpoint after that many
     * epochs goes on after them, and the lines of the epochs it does again are dropped.
     */
    public JsonLinesMetrics(Path file, int keepEpochs) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        this.file = file;
        List<String> kept = keepEpochs > 0 && Files.isRegularFile(file) ? linesUpTo(file, keepEpochs) : List.of();
        this.out = io.parallax.engine.io.ReplacingFile.streamWriter(file);
        for (String line : kept) {
            out.write(line);
            out.newLine();
        }
        out.flush();
    }

    /**
     * The epochs 1 to {@code epochs} a metrics file holds, as reports (fields it lacks are NaN or
     * 0); empty when the file does not exist. What a run resumed after those epochs starts from.
     */
    public static List<EpochReport> read(Path file, int epochs) throws IOException {
        if (epochs <= 0 || !Files.isRegularFile(file)) {
            return List.of();
        }
        List<EpochReport> reports = new ArrayList<>();
        for (String line : linesUpTo(file, epochs)) {
            JsonNode n = JSON.readTree(line);
            reports.add(new EpochReport(n.get("epoch").asInt(), number(n, "train_loss"), number(n, "val_loss"),
                    number(n, "val_accuracy"), number(n, "samples_per_second"), number(n, "elapsed_seconds"),
                    number(n, "learning_rate"), n.path("workers").asInt(0), n.path("redone_steps").asLong(0)));
        }
        return reports;
    }

    private static double number(JsonNode line, String field) {
        JsonNode v = line.get(field);
        return v == null || !v.isNumber() ? Double.NaN : v.asDouble();
    }

    /** The lines of {@code file} of epochs 1 to {@code epochs}; a line that does not parse ends them (a torn last write). */
    private static List<String> linesUpTo(Path file, int epochs) throws IOException {
        List<String> kept = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            JsonNode epoch;
            try {
                epoch = JSON.readTree(line).get("epoch");
            } catch (JsonProcessingException e) {
                break;
            }
            if (epoch == null || !epoch.canConvertToInt() || epoch.asInt() > epochs) {
                break;
            }
            kept.add(line);
        }
        return kept;
    }

    @Override
    public synchronized void onStep(StepReport step) {
        steps++;
        planeNanos += step.planeNanos();
        planeBytes += step.planeBytes();
        StepPhases ph = step.phases();
        phases[0] += step.stepNanos();
        phases[1] += ph.waitNanos();
        phases[2] += ph.fetchNanos();
        phases[3] += ph.computeNanos();
        phases[4] += ph.pushNanos();
        phases[5] += ph.sumNanos();
        phases[6] += ph.updateNanos();
    }

    @Override
    public synchronized void onEpoch(EpochReport r) {
        ObjectNode line = JSON.createObjectNode();
        line.put("epoch", r.epoch());
        number(line, "train_loss", r.trainLoss());
        number(line, "val_loss", r.valLoss());
        number(line, "val_accuracy", r.valAccuracy());
        number(line, "samples_per_second", r.samplesPerSecond());
        number(line, "elapsed_seconds", r.elapsedSeconds());
        number(line, "learning_rate", r.learningRate());
        line.put("workers", r.workers());
        line.put("redone_steps", r.redoneSteps());
        number(line, "plane_ms_per_step", steps == 0 ? Double.NaN : planeNanos / 1e6 / steps);
        line.put("plane_bytes_per_step", steps == 0 ? 0 : planeBytes / steps);
        line.put("steps", steps);
        String[] names = {"step_ms", "wait_ms", "fetch_ms", "compute_ms", "push_ms", "sum_ms", "update_ms"};
        for (int i = 0; i < names.length; i++) {
            number(line, names[i], steps == 0 ? Double.NaN : phases[i] / 1e6 / steps);
        }
        steps = 0;
        planeNanos = 0;
        planeBytes = 0;
        java.util.Arrays.fill(phases, 0);
        if (out == null || failure != null) {
            return;
        }
        try {
            out.write(JSON.writeValueAsString(line));
            out.newLine();
            out.flush();
        } catch (IOException e) {
            failure = new IOException("metrics file " + file + ": " + e.getMessage(), e);
        }
    }

    private static void number(ObjectNode line, String field, double value) {
        if (Double.isFinite(value)) {
            line.put(field, value);
        } else {
            line.putNull(field);
        }
    }

    @Override
    public synchronized Optional<IOException> failure() {
        return Optional.ofNullable(failure);
    }

    @Override
    public synchronized void close() throws IOException {
        if (out != null) {
            try {
                out.close();
            } catch (IOException e) {
                if (failure == null) {
                    failure = new IOException("metrics file " + file + ": " + e.getMessage(), e);
                }
            }
            out = null;
        }
        if (failure != null) {
            throw failure;
        }
    }
}
