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
 * learning_rate, workers) — the metrics file of {@code --metrics-out}.
 */
final class EpochPrinter implements JobListener, AutoCloseable {

    private final PrintWriter metrics;
    private long planeNanos;
    private long planeBytes;
    private long steps;

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
    }

    @Override
    public void onEpoch(EpochReport r) {
        System.out.printf(Locale.ROOT, "epoch %3d  train_loss %.4f  val_loss %.4f  val_accuracy %.4f  lr %.3g  "
                        + "%,.0f samples/s  %d worker(s)  %.1f s%n", r.epoch(), r.trainLoss(), r.valLoss(),
                r.valAccuracy(), r.learningRate(), r.samplesPerSecond(), r.workers(), r.elapsedSeconds());
        if (metrics != null) {
            metrics.printf(Locale.ROOT, "{\"epoch\":%d,\"train_loss\":%.6f,\"val_loss\":%.6f,\"val_accuracy\":%.6f,"
                            + "\"samples_per_second\":%.1f,\"elapsed_seconds\":%.3f,\"learning_rate\":%.6g,"
                            + "\"workers\":%d,\"plane_ms_per_step\":%.4f,\"plane_bytes_per_step\":%d}%n",
                    r.epoch(), r.trainLoss(), r.valLoss(), r.valAccuracy(), r.samplesPerSecond(), r.elapsedSeconds(),
                    r.learningRate(), r.workers(), steps == 0 ? 0 : planeNanos / 1e6 / steps,
                    steps == 0 ? 0 : planeBytes / steps);
            metrics.flush();
        }
        planeNanos = 0;
        planeBytes = 0;
        steps = 0;
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
