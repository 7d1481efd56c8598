package io.parallax.coordinator.metrics;

import io.parallax.coordinator.JobListener;
import java.io.Closeable;
import java.io.IOException;

/**
 * A {@link JobListener} that writes a job's metrics somewhere and must be closed when the job ends.
 *
 * <p>Sinks never throw from the listener callbacks: those run on the job's thread, and a full disk
 * must not fail a training run. A sink that cannot write keeps what it could not write and tries
 * again at its next write, says so in {@link #failure()} meanwhile, and {@link #close()} throws
 * when something is still unwritten at the end.
 */
public interface MetricsSink extends JobListener, Closeable {

    /**
     * Finishes the output (flushes, writes end-of-job files) and releases it.
     *
     * @throws IOException when some of the metrics could not be written, or finishing failed
     */
    @Override
    void close() throws IOException;

}
