package io.parallax.deploy;

import io.parallax.coordinator.JobListener;
import io.parallax.coordinator.metrics.JsonLinesMetrics;
import io.parallax.coordinator.metrics.MetricsFailureNotes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Prints a job's epochs to the terminal and, when asked, writes them as JSON lines — the metrics
 * file of {@code --metrics-out}, in {@link JsonLinesMetrics}' format (one object per epoch: the
 * epoch's losses, accuracy and throughput, the tensor plane's time and bytes per step, and where
 * the steps' time went).
 */
final class EpochPrinter implements JobListener, AutoCloseable {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern(TrainerCli.LOG_TIME_PATTERN, Locale.ROOT);

    private final JsonLinesMetrics metrics;
    private final MetricsFailureNotes failureNotes = new MetricsFailureNotes();
    /** Null on a terminal; on a coordinator node, the job each line is about. */
    private final String job;

    EpochPrinter(Path metricsOut) throws IOException {
        this(metricsOut, 0);
    }

    /** Keeping the lines of the first {@code keepEpochs} epochs already in {@code metricsOut} (a resumed run). */
    EpochPrinter(Path metricsOut, int keepEpochs) throws IOException {
        this.metrics = metricsOut == null ? null : new JsonLinesMetrics(metricsOut, keepEpochs);
        this.job = null;
    }

    private EpochPrinter(String job) {
        this.metrics = null;
        this.job = job;
    }

    /**
     * For a coordinator node's log, where the epochs of one job after another are printed among
     * the log's lines: each line begins with the time, as the log's do, and the job's id.
     */
    static EpochPrinter forNodeLog(String job) {
        return new EpochPrinter(job);
    }

    private void print(String line) {
        System.out.println(job == null ? line : ZonedDateTime.now().format(TIME) + " " + job + " " + line);
    }

    @Override
    public void onStep(StepReport step) {
        if (metrics != null) {
            metrics.onStep(step);
        }
    }

    @Override
    public void onEpoch(EpochReport r) {
        // without a validation set the figures are NaN, which reads as divergence: print "-"
        print(String.format(Locale.ROOT, "epoch %3d  train_loss %.4f  val_loss %s  val_accuracy %s  lr %.3g  "
                        + "%,.0f samples/s  %d worker(s)  %.1f s elapsed", r.epoch(), r.trainLoss(), orDash(r.valLoss()),
                orDash(r.valAccuracy()), r.learningRate(), r.samplesPerSecond(), r.workers(), r.elapsedSeconds()));
        if (metrics != null) {
            metrics.onEpoch(r);
            String told = failureNotes.next(metrics.failure());
            if (told != null) {
                print("note: " + told);
            }
        }
    }

    private static String orDash(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }

    @Override
    public void onEvent(String message) {
        print("note: " + message);
    }

    /** Closes the metrics file; a write that failed during the job is reported here. */
    @Override
    public void close() {
        if (metrics != null) {
            try {
                metrics.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
