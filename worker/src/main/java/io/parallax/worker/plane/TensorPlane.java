package io.parallax.worker.plane;

import java.util.concurrent.CompletableFuture;

/**
 * A worker's side of the tensor plane: fetch the coordinator's published state vector, hand in
 * a gradient vector. Two implementations: {@link InProcessTensorPlane} (same JVM: references,
 * no serialization, no copies) and {@link GrpcTensorPlane} (chunked streams of little-endian
 * float32, served by the coordinator's {@code TensorPlaneService}).
 * Every call has a deadline; none blocks forever.
 */
public interface TensorPlane extends AutoCloseable {

    /**
     * The state vector [parameters | buffers] of {@code version}. May return the coordinator's
     * own array (in process; read it, never write it) or {@code reuse} filled in (over the
     * network; {@code reuse} may be null or of the wrong length, then a new array is returned).
     * When the call fails, {@code reuse} may hold part of the vector. The version after the one
     * published last is waited for (the coordinator sends a step's command while it is still
     * computing that step's weights), within the plane's deadline; any other version that is not
     * the published one fails at once as stale.
     */
    float[] fetchState(String jobId, long version, float[] reuse) throws TensorPlaneException;

    /**
     * Asks for the state of {@code version} ahead of time (typically the version after the one
     * just computed on, before the coordinator has published it), so that a later
     * {@link #fetchState} of that version finds it arrived or arriving. A hint: it never fails,
     * and a fetch that finds no usable prefetch fetches as usual. {@code reuse} is as in
     * {@link #fetchState}; pass the same array (or null) to the matching fetch. Does nothing by
     * default (in process the state is at hand).
     */
    default void prefetchState(String jobId, long version, float[] reuse) {}

    /**
     * Hands in this worker's gradient vector [gradient | buffers] for (step, attempt). In
     * process the array is passed by reference: do not modify it until the coordinator has
     * moved on to the next step.
     */
    void pushGradient(String jobId, long step, int attempt, String worker, float[] gradient) throws TensorPlaneException;

    /**
     * Starts handing in this worker's gradient vector for (step, attempt) and returns without
     * waiting for the coordinator's acknowledgement, which the returned future brings
     * (exceptionally with a {@link TensorPlaneException}). A worker may acknowledge the step over
     * the control plane while the vector is still travelling: the coordinator sees a push that
     * broke off on its side too (the gradient it waits for is rejected), and the worker tells it
     * of one that never reached it ({@code WorkerActor.GradientLost}). Do not modify
     * {@code gradient} until the coordinator has moved on to the next step. By default this is
     * {@link #pushGradient}, done by the time it returns.
     */
    default CompletableFuture<Void> sendGradient(String jobId, long step, int attempt, String worker,
                                                 float[] gradient) {
        try {
            pushGradient(jobId, step, attempt, worker, gradient);
            return CompletableFuture.completedFuture(null);
        } catch (TensorPlaneException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Whether calls serialize the vectors (count their bytes as moved); false in process. */
    default boolean serializes() {
        return true;
    }

    @Override
    void close();
}
