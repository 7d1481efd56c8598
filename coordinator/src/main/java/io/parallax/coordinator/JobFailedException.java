package io.parallax.coordinator;

/**
 * A job stopped for a reason its submitter can read: no workers left, a diverged gradient, bad data.
 * Sealed: its one subclass is {@link JobCancelledException}.
 */
public sealed class JobFailedException extends Exception permits JobCancelledException {

    private static final long serialVersionUID = 1L;

    public JobFailedException(String message) {
        super(message);
    }

    public JobFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
