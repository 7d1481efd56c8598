package io.parallax.coordinator;

/** A job stopped for a reason its submitter can read: no workers left, a diverged gradient, bad data. */
public final class JobFailedException extends Exception {

    private static final long serialVersionUID = 1L;

    public JobFailedException(String message) {
        super(message);
    }

    public JobFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
