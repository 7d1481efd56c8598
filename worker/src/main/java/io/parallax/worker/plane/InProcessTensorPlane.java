package io.parallax.worker.plane;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The tensor plane of single-node mode: workers in the coordinator's JVM read its state array
 * and hand over their gradient arrays by reference — no serialization, no copies.
 */
public final class InProcessTensorPlane implements TensorPlane {

    /** How long a fetch waits for the coordinator to publish the version it asks for. */
    static final Duration PUBLICATION_WAIT = Duration.ofSeconds(60);

    private final TensorExchange exchange;

    public InProcessTensorPlane(TensorExchange exchange) {
        this.exchange = exchange;
    }

    @Override
    public float[] fetchState(String jobId, long version, float[] reuse) throws TensorPlaneException {
        if (exchange.publishedVersion(jobId) == version - 1) {
            awaitPublication(jobId, version);
        }
        return exchange.state(jobId, version);
    }

    /**
     * The coordinator sends a step's command before it has published the step's weights (the
     * next rows are known in advance, so the command travels while the optimizer runs): wait for
     * the publication, as the gRPC plane's fetch does, with the same kind of bound.
     */
    private void awaitPublication(String jobId, long version) throws TensorPlaneException {
        CompletableFuture<Long> published = exchange.whenPublished(jobId, version);
        try {
            published.get(PUBLICATION_WAIT.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof TensorPlaneException tpe ? tpe
                    : new TensorPlaneException(TensorPlaneException.Kind.UNAVAILABLE, String.valueOf(e.getCause()));
        } catch (TimeoutException e) {
            published.cancel(false);
            throw new TensorPlaneException(TensorPlaneException.Kind.UNAVAILABLE, "state version " + version
                    + " of job '" + jobId + "' was not published within " + PUBLICATION_WAIT.toSeconds() + " s");
        } catch (InterruptedException e) {
            published.cancel(false);
            Thread.currentThread().interrupt();
            throw new TensorPlaneException(TensorPlaneException.Kind.UNAVAILABLE, "interrupted waiting for state version "
                    + version + " of job '" + jobId + "'");
        }
    }

    @Override
    public void pushGradient(String jobId, long step, int attempt, String worker, float[] gradient)
            throws TensorPlaneException {
        exchange.acceptGradient(jobId, step, attempt, worker, gradient);
    }

    @Override
    public boolean serializes() {
        return false;
    }

    @Override
    public void close() {
        // nothing held
    }
}
