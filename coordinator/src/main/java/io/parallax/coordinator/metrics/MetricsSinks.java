package io.parallax.coordinator.metrics;

import io.parallax.coordinator.JobListeners;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Several {@link MetricsSink}s as one listener; {@link #forJob(Path)} builds the standard set for
 * a job folder:
 *
 * <pre>
 *   jobDir/metrics.jsonl    one JSON object per epoch          ({@link JsonLinesMetrics})
 *   jobDir/tensorboard/     a TensorBoard event file           ({@link TensorBoardWriter})
 *   jobDir/curves.png       loss and accuracy curves, at close ({@link ChartWriter})
 * </pre>
 *
 * Callbacks go to every sink in order. {@link #close()} closes every sink even when one fails, and
 * throws the first failure with the others attached as suppressed exceptions.
 */
public final class MetricsSinks implements MetricsSink {

    /** The JSON-lines file's name in a job folder. */
    public static final String METRICS_FILE = "metrics.jsonl";
    /** The TensorBoard log folder's name in a job folder (point {@code tensorboard --logdir} here). */
    public static final String TENSORBOARD_DIR = "tensorboard";
    /** The chart's name in a job folder. */
    public static final String CHART_FILE = "curves.png";

    private final List<MetricsSink> sinks;
    private final JobListeners fanOut;

    private MetricsSinks(List<MetricsSink> sinks) {
        this.sinks = List.copyOf(sinks);
        this.fanOut = JobListeners.of(this.sinks.toArray(new MetricsSink[0]));
    }

    /** All three sinks writing into {@code jobDir} (created if missing), the chart titled with its name. */
    public static MetricsSinks forJob(Path jobDir) throws IOException {
        return forJob(jobDir, List.of());
    }

    /** As {@link #forJob(Path)} for a run that resumes after the epochs {@code earlier}. */
    public static MetricsSinks forJob(Path jobDir, List<EpochReport> earlier) throws IOException {
        Path name = jobDir.toAbsolutePath().normalize().getFileName();
        return forJob(jobDir, name == null ? "Training curves" : name.toString(), earlier);
    }

    /** All three sinks writing into {@code jobDir} (created if missing), the chart titled {@code title}. */
    public static MetricsSinks forJob(Path jobDir, String title) throws IOException {
        return forJob(jobDir, title, List.of());
    }

    /**
     * As {@link #forJob(Path, String)} for a job that resumes after the epochs {@code earlier}:
     * metrics.jsonl keeps their lines (writing again those it lost, a torn last line) and the
     * chart starts with them. (The TensorBoard writer
     * starts a new event file; TensorBoard drops the older file's steps past the first step of the
     * new one, the epochs done again.)
     */
    public static MetricsSinks forJob(Path jobDir, String title, List<EpochReport> earlier) throws IOException {
        List<MetricsSink> opened = new ArrayList<>();
        try {
            opened.add(new JsonLinesMetrics(jobDir.resolve(METRICS_FILE), earlier));
            opened.add(new TensorBoardWriter(jobDir.resolve(TENSORBOARD_DIR)));
            opened.add(new ChartWriter(jobDir.resolve(CHART_FILE), title, earlier));
        } catch (IOException | RuntimeException e) {
            Exception again = JobListeners.closeAll(opened);
            if (again != null) {
                e.addSuppressed(again);
            }
            throw e;
        }
        return new MetricsSinks(opened);
    }

    /** The given sinks as one, called in the given order. */
    public static MetricsSinks of(MetricsSink... sinks) {
        return new MetricsSinks(List.of(sinks));
    }

    @Override
    public void onStep(StepReport step) {
        fanOut.onStep(step);
    }

    @Override
    public void onParameters(long step, float[] parameters) {
        fanOut.onParameters(step, parameters);
    }

    @Override
    public Optional<IOException> failure() {
        return fanOut.failure();
    }

    @Override
    public void onEpoch(EpochReport epoch) {
        fanOut.onEpoch(epoch);
    }

    @Override
    public void onEvent(String message) {
        fanOut.onEvent(message);
    }

    @Override
    public void close() throws IOException {
        // a sink's close throws only IOException or unchecked exceptions
        Exception first = JobListeners.closeAll(sinks);
        if (first instanceof IOException io) {
            throw io;
        }
        if (first instanceof RuntimeException re) {
            throw re;
        }
        if (first != null) {
            throw new IOException(first);
        }
    }
}
