package io.parallax.coordinator.service;

import java.time.Duration;

/**
 * A submission whose client stopped waiting (its deadline passed) while the job's data was read:
 * it is not queued, since the client was told it failed and may submit it again.
 */
public final class AbandonedSubmissionException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** @param reading how long its data was read for; zero: not read at all (the submitter had gone before) */
    public AbandonedSubmissionException(Duration reading) {
        super(reading.isZero() ? "not queued: its submitter stopped waiting before its data was read"
                : String.format(java.util.Locale.ROOT, "not queued: its submitter stopped waiting while its data was "
                        + "read (%.1f s)", reading.toMillis() / 1000.0));
    }
}
