package io.parallax.coordinator.service;

import io.parallax.coordinator.JobListener;
import io.parallax.coordinator.metrics.JsonLinesMetrics;
import io.parallax.coordinator.metrics.MetricsSinks;
import io.parallax.proto.v1.Job;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Makes the listeners that write a job's metrics files (JSON lines, TensorBoard events, charts)
 * into its folder. Called once when the job starts running, on the queue's runner thread.
 *
 * <p>The listener hears the job's steps and epochs on that thread, so it must be quick. If it is
 * {@link AutoCloseable} it is closed when the job ends — however it ends — which is where a
 * sink writes what it writes once (a chart). A listener that throws is logged and dropped; it
 * never fails the job.
 */
@FunctionalInterface
public interface JobListenerFactory {

    /**
     * @param job    the record as the job starts running; a job resuming from a checkpoint holds
     *               the epochs before it ({@link #earlierEpochs}), which the files should keep
     * @param jobDir the job's folder in the coordinator's state directory (exists)
     */
    JobListener create(Job job, Path jobDir) throws IOException;

    /** The default: {@code metrics.jsonl} in the job's folder ({@link JsonLinesMetrics}). */
    static JobListenerFactory jsonLines() {
        return (job, dir) -> new JsonLinesMetrics(dir.resolve(MetricsSinks.METRICS_FILE), earlierEpochs(job));
    }

    /** The epochs {@code job}'s record holds (before a checkpoint it resumes from), as reports. */
    static List<JobListener.EpochReport> earlierEpochs(Job job) {
        return job.getEpochsList().stream().map(e -> new JobListener.EpochReport(e.getEpoch(), e.getTrainLoss(),
                e.getValLoss(), e.getValAccuracy(), e.getSamplesPerSecond(), e.getElapsedSeconds(), e.getLearningRate(),
                e.getWorkers(), 0)).toList();
    }
}
