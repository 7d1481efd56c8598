package io.parallax.worker.plane;

/**
 * The tensor plane of single-node mode: workers in the coordinator's JVM read its state array
 * and hand over their gradient arrays by reference — no serialization, no copies.
 */
public final class InProcessTensorPlane implements TensorPlane {

    private final TensorExchange exchange;

    public InProcessTensorPlane(TensorExchange exchange) {
        this.exchange = exchange;
    }

    @Override
    public float[] fetchState(String jobId, long version, float[] reuse) throws TensorPlaneException {
        return exchange.state(jobId, version);
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
