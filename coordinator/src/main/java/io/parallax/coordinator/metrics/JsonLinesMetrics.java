package io.parallax.coordinator.metrics;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
 * job's start (a run resumed from a checkpoint goes on from the checkpoint's figure: the time the
 * job was stopped is not in it); the {@code plane_*} fields average the epoch's steps, summed over workers; the
 * {@code *_ms} fields say where the epoch's steps went on average ({@link StepPhases}: the
 * coordinator's whole step, its wait for the workers, the workers' fetch, compute and push summed
 * over workers, the coordinator's sum and update). NaN
 * ("not measured", e.g. no validation set) and infinities, which JSON cannot hold, are written as
 * {@code null}.
 */
public final class JsonLinesMetrics implements MetricsSink {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final RecoveringAppender out;
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
     * epochs goes on after them, and the lines of the epochs it does again are dropped. The kept
     * lines are not rewritten (the file is cut after them), so a full disk cannot lose them.
     */
    public JsonLinesMetrics(Path file, int keepEpochs) throws IOException {
        this(file, keepEpochs, List.of());
    }

    /**
     * As {@link #JsonLinesMetrics(Path, int)} keeping the lines of the epochs {@code earlier} (a
     * resumed job's record holds them), and writing again those of them the file lacks: a power
     * cut tears the last line, which is then cut off, but the record, written before, has that
     * epoch. Those lines have the record's figures; the per-step ones it does not keep
     * ({@code steps}, {@code plane_*}, {@code *_ms}) are {@code null}.
     */
    public JsonLinesMetrics(Path file, List<EpochReport> earlier) throws IOException {
        this(file, earlier.size(), earlier);
    }

    private JsonLinesMetrics(Path file, int keepEpochs, List<EpochReport> earlier) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        String name = "metrics file " + file;
        int lastKept = 0;
        if (keepEpochs > 0 && Files.isRegularFile(file)) {
            long kept = 0;
            for (KeptLine line : linesUpTo(file, keepEpochs)) {
                kept = line.end();
                lastKept = line.json().get("epoch").asInt();
            }
            this.out = RecoveringAppender.keeping(file, kept, name);
        } else {
            this.out = RecoveringAppender.create(file, name);
        }
        boolean rewritten = false;
        for (EpochReport r : earlier) {
            if (r.epoch() > lastKept) {
                ObjectNode line = epochFields(r);
                line.putNull("redone_steps"); // the record does not keep it either
                for (String field : STEP_FIELDS) {
                    line.putNull(field);
                }
                append(line);
                rewritten = true;
            }
        }
        if (rewritten) {
            out.flush(true);
        }
    }

    /** For tests: lines go to {@code out}. */
    JsonLinesMetrics(RecoveringAppender out) {
        this.out = out;
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
        for (KeptLine line : linesUpTo(file, epochs)) {
            JsonNode n = line.json();
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

    /** A line of a metrics file, parsed, and the offset just past its newline. */
    private record KeptLine(JsonNode json, long end) {}

    /**
     * The lines of {@code file} of epochs 1 to {@code epochs}, in order. A line that does not parse,
     * or lacks its newline, ends them: a torn last write.
     */
    private static List<KeptLine> linesUpTo(Path file, int epochs) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        List<KeptLine> kept = new ArrayList<>();
        int start = 0;
        for (int nl = indexOf(bytes, start); nl >= 0; start = nl + 1, nl = indexOf(bytes, start)) {
            int end = nl > start && bytes[nl - 1] == '\r' ? nl - 1 : nl;
            JsonNode line;
            try {
                line = JSON.readTree(new String(bytes, start, end - start, StandardCharsets.UTF_8));
            } catch (JsonProcessingException e) {
                break;
            }
            JsonNode epoch = line == null ? null : line.get("epoch");
            if (epoch == null || !epoch.canConvertToInt() || epoch.asInt() > epochs) {
                break;
            }
            kept.add(new KeptLine(line, nl + 1L));
        }
        return kept;
    }

    private static int indexOf(byte[] bytes, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == '\n') {
                return i;
            }
        }
        return -1;
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

    /** The fields of a line that come from the steps, in their order, after those of {@link #epochFields}. */
    private static final String[] STEP_FIELDS = {"plane_ms_per_step", "plane_bytes_per_step", "steps", "step_ms",
        "wait_ms", "fetch_ms", "compute_ms", "push_ms", "sum_ms", "update_ms"};

    /** A line's fields that an epoch's report holds (a job's record keeps them too). */
    private static ObjectNode epochFields(EpochReport r) {
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
        return line;
    }

    @Override
    public synchronized void onEpoch(EpochReport r) {
        ObjectNode line = epochFields(r);
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
        append(line);
        // forced to the disk: a job resumed after a power cut finds every epoch its checkpoint has
        out.flush(true);
    }

    private void append(ObjectNode line) {
        try {
            out.append((JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a metrics line did not encode", e); // numbers and nulls only
        }
    }

    private static void number(ObjectNode line, String field, double value) {
        if (Double.isFinite(value)) {
            line.put(field, value);
        } else {
            line.putNull(field);
        }
    }

    /**
     * Why lines are missing from the file just now (a full disk), if they are: they are kept and
     * written after the others at a later epoch, once there is room.
     */
    @Override
    public synchronized Optional<IOException> failure() {
        return out.failure();
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
    }
}
