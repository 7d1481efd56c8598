package io.parallax.coordinator.metrics;

import java.io.IOException;
import java.util.Optional;

/**
 * What to tell a job's user as a metrics writer's {@link MetricsSink#failure()} changes from one
 * epoch to the next: once when writing stops (again if the reason changes, e.g. to "given up"),
 * once when it has caught up. Shared by the coordinator's watchers and {@code local}'s console.
 */
public final class MetricsFailureNotes {

    /** The failure told last; null while the writer writes. */
    private String failing;

    /** The note for the writer's failure now, or null when there is nothing new to tell. */
    public String next(Optional<IOException> failure) {
        String now = failure.map(Throwable::getMessage).orElse(null);
        String note = now != null && !now.equals(failing) ? "metrics could not be written (" + now + "); training goes on"
                : now == null && failing != null ? "metrics are written again, the epochs missed included"
                : null;
        failing = now;
        return note;
    }

    /** Why the writer does not write, as of the last {@link #next}; null when it does. */
    public String failing() {
        return failing;
    }
}
