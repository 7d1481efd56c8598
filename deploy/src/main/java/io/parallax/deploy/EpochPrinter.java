package io.parallax.deploy;

import io.parallax.coordinator.JobListener;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Prints a job's epochs to the terminal and, when asked, writes them as JSON lines (one object
 * per epoch: epoch, train_loss, val_loss, val_accuracy, samples_per_second, elapsed_seconds,
 * learning_rate, workers; the tensor plane's time and bytes per step, and where the steps' time went:
 * step_ms, wait_ms, fetch_ms, compute_ms, push_ms, sum_ms, update_ms, see
 * {@link JobListener.StepPhases}) — the metrics file of {@code --metrics-out}.
 */
final class EpochPrinter implements JobListener, AutoCloseable {

    private final PrintWriter metrics;
    private long planeNanos;
    private long planeBytes;
    private long steps;
    private final long[] phases = new long[7];

    EpochPrinter(Path metricsOut) throws IOException {
        if (metricsOut != null && metricsOut.toAbsolutePath().getParent() != null) {
            Files.createDirectories(metricsOut.toAbsolutePath().getParent());
        }
        this.metrics = metricsOut == null ? null : new PrintWriter(Files.newBufferedWriter(metricsOut));
    }

    @Override
    public void onStep(StepReport step) {
        planeNanos += step.planeNanos();
        planeBytes += step.planeBytes();
        steps++;
        JobListener.StepPhases ph = step.phases();
        if (ph != null) {
            phases[0] += step.stepNanos();
            phases[1] += ph.waitNanos();
            phases[2] += ph.fetchNanos();
            phases[3] += ph.computeNanos();
            phases[4] += ph.pushNanos();
            phases[5] += ph.sumNanos();
            phases[6] += ph.updateNanos();
        }
    }

    @Override
    public void onEpoch(EpochReport r) {
        System.out.printf(Locale.ROOT, "epoch %3d  train_loss %.4f  val_loss %.4f  val_accuracy %.4f  lr %.3g  "
                        + "%,.0f samples/s  %d worker(s)  %.1f s%n", r.epoch(), r.trainLoss(), r.valLoss(),
                r.valAccuracy(), r.learningRate(), r.samplesPerSecond(), r.workers(), r.elapsedSeconds());
        if (metrics != null) {
            metrics.printf(Locale.ROOT, "{\"epoch\":%d,\"train_loss\":%.6f,\"val_loss\":%.6f,\"val_accuracy\":%.6f,"
                            + "\"samples_per_second\":%.1f,\"elapsed_seconds\":%.3f,\"learning_rate\":%.6g,"
                            + "\"workers\":%d,\"plane_ms_per_step\":%.4f,\"plane_bytes_per_step\":%d,"
                            + "\"steps\":%d,\"step_ms\":%.4f,\"wait_ms\":%.4f,\"fetch_ms\":%.4f,\"compute_ms\":%.4f,"
                            + "\"push_ms\":%.4f,\"sum_ms\":%.4f,\"update_ms\":%.4f}%n",
                    r.epoch(), r.trainLoss(), r.valLoss(), r.valAccuracy(), r.samplesPerSecond(), r.elapsedSeconds(),
                    r.learningRate(), r.workers(), perStep(planeNanos), steps == 0 ? 0 : planeBytes / steps,
                    steps, perStep(phases[0]), perStep(phases[1]), perStep(phases[2]), perStep(phases[3]),
                    perStep(phases[4]), perStep(phases[5]), perStep(phases[6]));
            metrics.flush();
        }
        planeNanos = 0;
        planeBytes = 0;
        steps = 0;
        java.util.Arrays.fill(phases, 0);
    }

    /** Milliseconds per step of a sum of nanoseconds over this epoch's steps. */
    private double perStep(long nanos) {
        return steps == 0 ? 0 : nanos / 1e6 / steps;
    }

    @Override
    public void onEvent(String message) {
        System.out.println("note: " + message);
    }

    @Override
    public void close() {
        if (metrics != null) {
            metrics.close();
        }
    }
}
