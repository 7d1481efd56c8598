package io.parallax.coordinator.plane;

import io.grpc.Status;
import io.parallax.worker.plane.TensorPlaneException;

/**
 * How tensor-plane failures cross the wire: a status code and a description a worker can act
 * on. Only the message travels; the Java exception and its stack trace stay on the coordinator.
 */
final class PlaneStatus {

    private PlaneStatus() {}

    /** The status of a failure the exchange reported. */
    static Status of(TensorPlaneException e) {
        Status code = switch (e.kind()) {
            case NOT_FOUND -> Status.NOT_FOUND;
            case STALE -> Status.FAILED_PRECONDITION;
            case INVALID -> Status.INVALID_ARGUMENT;
            case UNAVAILABLE -> Status.UNAVAILABLE;
        };
        return code.withDescription(e.getMessage());
    }

    /** A malformed request or stream. */
    static Status invalid(String description) {
        return Status.INVALID_ARGUMENT.withDescription(description);
    }

    /**
     * A bug on the coordinator's side: the client learns that much and nothing of the cause,
     * which the caller logs.
     */
    static Status internal() {
        return Status.INTERNAL.withDescription("the coordinator's tensor plane failed; its log has the details");
    }
}
