package io.parallax.worker.plane;

/** A tensor-plane call that failed: what went wrong, in words a log or a user can act on. */
public final class TensorPlaneException extends Exception {

    private static final long serialVersionUID = 1L;

    /** Why the call failed; the gRPC transport maps these to status codes. */
    public enum Kind {
        /** The job or vector is not on the coordinator. */
        NOT_FOUND,
        /** The request names a weight version that is no longer (or not yet) published. */
        STALE,
        /** The request itself is malformed (wrong length, bad chunk order). */
        INVALID,
        /** The coordinator could not be reached or did not answer within the deadline. */
        UNAVAILABLE
    }

    private final Kind kind;

    public TensorPlaneException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public TensorPlaneException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
