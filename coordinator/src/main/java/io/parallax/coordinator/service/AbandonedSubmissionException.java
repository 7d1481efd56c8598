package io.parallax.coordinator.service;

import java.time.Duration;

/**
 * A submission whose client stopped waiting (its deadline passed) while the job's data was read:
 * it is not queued, since the client was told it failed and may submit it again.
 */
public final class AbandonedSubmissionException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public AbandonedSubmissionException(Duration reading) {
        super(String.format(java.util.Locale.ROOT, "not queued: its submitter stopped waiting while its data was "
                + "read (%.1f s)", reading.toMillis() / 1000.0));
    }
}
