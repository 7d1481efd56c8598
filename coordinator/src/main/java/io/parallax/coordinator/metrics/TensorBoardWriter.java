package io.parallax.coordinator.metrics;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Writes a job's scalars as a TensorBoard event file, {@code events.out.tfevents.<seconds>.<host>}
 * in the log folder, which {@code tensorboard --logdir} reads while the job runs.
 *
 * <p>Scalars, each under its own tag:
 * <ul>
 *   <li>every {@code everySteps} optimizer steps (and at the end of each epoch for the rest), with
 *       the global step (1-based) as x: {@code train/loss}, the mean training loss per sample
 *       over those steps, and {@code train/samples_per_second}, their rows over their step time;
 *   <li>after each epoch, with the epoch number (1-based) as x: {@code epoch/train_loss},
 *       {@code epoch/val_loss}, {@code epoch/val_accuracy}, {@code epoch/learning_rate},
 *       {@code epoch/samples_per_second}. A NaN in the report means "not measured" (no
 *       validation set, or a task without accuracy) and is left out rather than plotted.
 * </ul>
 * The file is flushed after each epoch, so a running TensorBoard shows progress epoch by epoch;
 * the per-step events in between reach the disk whenever 64 KiB of them are waiting. Events that
 * a full disk keeps out wait in memory and are written once there is room
 * ({@link RecoveringAppender}).
 */
public final class TensorBoardWriter implements MetricsSink {

    /** Per-step events waiting in memory are written once they reach this much. */
    private static final int FLUSH_BYTES = 1 << 16;

    private final Path file;
    private final int everySteps;
    private final RecoveringAppender out;
    private final TfRecordWriter records = new TfRecordWriter();

    private long pendingSteps;
    private long lastStep;
    private double pendingLossRows;
    private long pendingRows;
    private long pendingNanos;

    /** Logs every step's loss and throughput into a new event file in {@code logDir}. */
    public TensorBoardWriter(Path logDir) throws IOException {
        this(logDir, 1);
    }

    /**
     * Logs the step scalars once every {@code everySteps} steps (means over those steps) into a new
     * event file in {@code logDir}, created with its parents if missing.
     */
    public TensorBoardWriter(Path logDir, int everySteps) throws IOException {
        this(newEventFile(logDir, everySteps), everySteps);
    }

    /** For tests: events go to {@code file} through {@code out}. */
    TensorBoardWriter(EventFile file, int everySteps) {
        if (everySteps < 1) {
            throw new IllegalArgumentException("everySteps must be >= 1, got " + everySteps);
        }
        this.everySteps = everySteps;
        this.file = file.path();
        this.out = file.out();
        // on a full disk this waits like any other event: the job does not fail for its metrics
        out.append(records.frame(TensorBoardEvents.fileVersion(wallTime())));
        out.flush(false);
    }

    /** An event file just created, and its appender. */
    record EventFile(Path path, RecoveringAppender out) {}

    private static EventFile newEventFile(Path logDir, int everySteps) throws IOException {
        if (everySteps < 1) { // before any file is made
            throw new IllegalArgumentException("everySteps must be >= 1, got " + everySteps);
        }
        Files.createDirectories(logDir);
        String base = "events.out.tfevents." + (long) wallTime() + "." + hostname();
        Path candidate = logDir.resolve(base);
        // two writers started in the same second in one folder (a restarted job) must not clobber
        // each other; TensorBoard reads any file whose name contains "tfevents"
        for (int n = 1; ; n++) {
            try {
                return new EventFile(candidate, RecoveringAppender.createNew(candidate,
                        "TensorBoard event file " + candidate));
            } catch (FileAlreadyExistsException e) {
                candidate = logDir.resolve(base + "." + n);
            }
        }
    }

    /** The event file this writer appends to. */
    public Path file() {
        return file;
    }

    @Override
    public synchronized void onStep(StepReport step) {
        pendingSteps++;
        lastStep = step.step();
        pendingLossRows += step.loss() * step.rows();
        pendingRows += step.rows();
        pendingNanos += step.stepNanos();
        if (pendingSteps >= everySteps) {
            writePendingSteps();
        }
    }

    @Override
    public synchronized void onEpoch(EpochReport epoch) {
        writePendingSteps();
        Map<String, Float> scalars = new LinkedHashMap<>();
        put(scalars, "epoch/train_loss", epoch.trainLoss());
        put(scalars, "epoch/val_loss", epoch.valLoss());
        put(scalars, "epoch/val_accuracy", epoch.valAccuracy());
        put(scalars, "epoch/learning_rate", epoch.learningRate());
        put(scalars, "epoch/samples_per_second", epoch.samplesPerSecond());
        if (!scalars.isEmpty()) {
            out.append(records.frame(TensorBoardEvents.scalars(wallTime(), epoch.epoch(), scalars)));
        }
        out.flush(false);
    }

    /**
     * Why events are missing from the file just now (a full disk), if they are: they are kept and
     * written at a later flush, once there is room.
     */
    @Override
    public synchronized Optional<IOException> failure() {
        return out.failure();
    }

    @Override
    public synchronized void close() throws IOException {
        writePendingSteps();
        out.close();
    }

    private void writePendingSteps() {
        if (pendingSteps == 0) {
            return;
        }
        Map<String, Float> scalars = new LinkedHashMap<>();
        put(scalars, "train/loss", pendingRows == 0 ? Double.NaN : pendingLossRows / pendingRows);
        put(scalars, "train/samples_per_second", pendingNanos == 0 ? Double.NaN : pendingRows * 1e9 / pendingNanos);
        if (!scalars.isEmpty()) {
            out.append(records.frame(TensorBoardEvents.scalars(wallTime(), lastStep, scalars)));
            // while the disk is full, trying again is left to the epoch's flush, not every step
            if (out.pendingBytes() >= FLUSH_BYTES && out.failure().isEmpty()) {
                out.flush(false);
            }
        }
        pendingSteps = 0;
        pendingLossRows = 0;
        pendingRows = 0;
        pendingNanos = 0;
    }

    private static void put(Map<String, Float> scalars, String tag, double value) {
        if (!Double.isNaN(value)) {
            scalars.put(tag, (float) value);
        }
    }

    private static double wallTime() {
        return System.currentTimeMillis() / 1000.0;
    }

    /**
     * This machine's name for the file name, as TensorFlow's writer does. Read locally:
     * {@code InetAddress.getLocalHost()} may ask a DNS server, which a metrics writer must not.
     */
    static String hostname() {
        String name = System.getenv("HOSTNAME");
        if (name == null || name.isBlank()) {
            try {
                name = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
            } catch (IOException | RuntimeException e) {
                name = null;
            }
        }
        if (name == null || name.isBlank()) {
            name = "localhost";
        }
        return name.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
