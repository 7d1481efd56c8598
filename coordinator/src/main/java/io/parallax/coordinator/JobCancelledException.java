package io.parallax.coordinator;

/**
 * A job stopped by {@link JobRunner#cancel()}. A {@link JobFailedException} so that code which
 * never cancels need not know it; code that does tells the two apart.
 */
public final class JobCancelledException extends JobFailedException {

    private static final long serialVersionUID = 1L;

    public JobCancelledException(String message) {
        super(message);
    }
}
