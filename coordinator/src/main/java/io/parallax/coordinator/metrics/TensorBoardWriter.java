package io.parallax.coordinator.metrics;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 * the per-step events in between reach the disk whenever the buffer fills.
 */
public final class TensorBoardWriter implements MetricsSink {

    private final Path file;
    private final int everySteps;
    private OutputStream stream;
    private TfRecordWriter records;
    private IOException failure;

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
        if (everySteps < 1) {
            throw new IllegalArgumentException("everySteps must be >= 1, got " + everySteps);
        }
        this.everySteps = everySteps;
        Files.createDirectories(logDir);
        double now = wallTime();
        String base = "events.out.tfevents." + (long) now + "." + hostname();
        Path candidate = logDir.resolve(base);
        OutputStream out = null;
        // two writers started in the same second in one folder (a restarted job) must not clobber
        // each other; TensorBoard reads any file whose name contains "tfevents"
        for (int n = 1; out == null; n++) {
            try {
                out = Files.newOutputStream(candidate, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException e) {
                candidate = logDir.resolve(base + "." + n);
            }
        }
        this.file = candidate;
        this.stream = new BufferedOutputStream(out, 1 << 16);
        this.records = new TfRecordWriter(stream);
        write(TensorBoardEvents.fileVersion(now));
        flush();
        if (failure != null) {
            throw failure;
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
            write(TensorBoardEvents.scalars(wallTime(), epoch.epoch(), scalars));
        }
        flush();
    }

    @Override
    public synchronized Optional<IOException> failure() {
        return Optional.ofNullable(failure);
    }

    @Override
    public synchronized void close() throws IOException {
        if (stream != null) {
            writePendingSteps();
            try {
                stream.close();
            } catch (IOException e) {
                fail(e);
            }
            stream = null;
            records = null;
        }
        if (failure != null) {
            throw failure;
        }
    }

    private void writePendingSteps() {
        if (pendingSteps == 0) {
            return;
        }
        Map<String, Float> scalars = new LinkedHashMap<>();
        put(scalars, "train/loss", pendingRows == 0 ? Double.NaN : pendingLossRows / pendingRows);
        put(scalars, "train/samples_per_second", pendingNanos == 0 ? Double.NaN : pendingRows * 1e9 / pendingNanos);
        if (!scalars.isEmpty()) {
            write(TensorBoardEvents.scalars(wallTime(), lastStep, scalars));
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

    private void write(byte[] event) {
        if (records == null || failure != null) {
            return;
        }
        try {
            records.write(event);
        } catch (IOException e) {
            fail(e);
        }
    }

    private void flush() {
        if (stream == null || failure != null) {
            return;
        }
        try {
            stream.flush();
        } catch (IOException e) {
            fail(e);
        }
    }

    private void fail(IOException e) {
        if (failure == null) {
            failure = new IOException("TensorBoard event file " + file + ": " + e.getMessage(), e);
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
