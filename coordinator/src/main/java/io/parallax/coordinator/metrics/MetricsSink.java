package io.parallax.coordinator.metrics;

import io.parallax.coordinator.JobListener;
import java.io.Closeable;
import java.io.IOException;

/**
 * A {@link JobListener} that writes a job's metrics somewhere and must be closed when the job ends.
 *
 * <p>Sinks never throw from the listener callbacks: those run on the job's thread, and a full disk
 * must not fail a training run. A sink that cannot write stops writing, says so in
 * {@link #failure()} at once, and {@link #close()} throws the first {@link IOException} it met.
 */
public interface MetricsSink extends JobListener, Closeable {

    /**
     * Finishes the output (flushes, writes end-of-job files) and releases it.
     *
     * @throws IOException the first write failure of the sink's life, or one while finishing
     */
    @Override
    void close() throws IOException;

}
