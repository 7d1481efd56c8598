package io.parallax.worker;

import io.parallax.engine.backend.Backend;
import io.parallax.worker.job.DataRoots;
import io.parallax.worker.job.JobFiles;
import io.parallax.worker.job.JobPlan;
import io.parallax.worker.plane.TensorPlane;
import java.nio.file.Path;
import java.util.List;

/**
 * What a worker needs from the process it runs in: a compute backend, the folders it may read
 * data from, the job's plan (its data read once per process in single-node mode), and a way to
 * reach the coordinator's tensor plane (over gRPC in a cluster, by reference in single-node mode).
 */
public interface WorkerEnvironment {

    Backend backend();

    /** Folders job data may be read from; a path outside them is refused. */
    List<Path> dataRoots();

    /** A tensor plane to the coordinator at host:port (single-node mode ignores the address). */
    TensorPlane connect(String host, int port);

    /**
     * The plan of the job {@code jobJson} (a JobSpec in JSON): by default parsed, validated and
     * its data read from {@link #dataRoots()}. Single-node mode hands every worker the plan its
     * coordinator has already loaded.
     */
    default JobPlan plan(String jobJson) {
        return JobPlan.load(JobFiles.parse(jobJson), DataRoots.of(dataRoots()));
    }
}
