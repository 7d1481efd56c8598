package io.parallax.coordinator.service;

import io.parallax.coordinator.JobListener;
import io.parallax.coordinator.metrics.JsonLinesMetrics;
import io.parallax.coordinator.metrics.MetricsSinks;
import io.parallax.proto.v1.Job;
import java.io.IOException;
import java.nio.file.Path;

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
     * @param job    the record as the job starts running
     * @param jobDir the job's folder in the coordinator's state directory (exists)
     */
    JobListener create(Job job, Path jobDir) throws IOException;

    /** The default: {@code metrics.jsonl} in the job's folder ({@link JsonLinesMetrics}). */
    static JobListenerFactory jsonLines() {
        return (job, dir) -> new JsonLinesMetrics(dir.resolve(MetricsSinks.METRICS_FILE));
    }
}
