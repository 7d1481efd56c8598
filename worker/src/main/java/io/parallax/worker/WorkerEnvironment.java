package io.parallax.worker;

import io.parallax.engine.backend.Backend;
import io.parallax.worker.plane.TensorPlane;
import java.nio.file.Path;
import java.util.List;

/**
 * What a worker needs from the process it runs in: a compute backend, the folders it may read
 * data from, and a way to reach the coordinator's tensor plane (over gRPC in a cluster, by
 * reference in single-node mode).
 */
public interface WorkerEnvironment {

    Backend backend();

    /** Folders job data may be read from; a path outside them is refused. */
    List<Path> dataRoots();

    /** A tensor plane to the coordinator at host:port (single-node mode ignores the address). */
    TensorPlane connect(String host, int port);
}
