package io.parallax.coordinator;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A notice given once when a piece of work (reading a job's data) takes longer than a while, so
 * that a run silent for a minute does not look stuck; none once the work is done:
 * <pre>{@code
 * try (SlowNotice n = SlowNotice.after(Duration.ofSeconds(5), () -> note.accept("reading the data"))) {
 *     plan = JobPlan.load(...);
 * }
 * }</pre>
 * The notices run on a timer thread of their own, not on the common pool, which the work itself
 * may keep busy (images are decoded on it).
 */
public final class SlowNotice implements AutoCloseable {

    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "parallax-slow-notice");
        t.setDaemon(true);
        return t;
    });

    private final Object lock = new Object();
    private final ScheduledFuture<?> scheduled;
    private boolean closed;

    private SlowNotice(Duration after, Runnable notice) {
        scheduled = TIMER.schedule(() -> {
            // under the lock that close() takes: a notice under way finishes before close returns,
            // and none begins after it
            synchronized (lock) {
                if (!closed) {
                    notice.run();
                }
            }
        }, after.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Runs {@code notice} once {@code after} has passed, unless {@link #close()} came first. */
    public static SlowNotice after(Duration after, Runnable notice) {
        return new SlowNotice(after, notice);
    }

    /** The work is done: no notice from now on. */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
        }
        scheduled.cancel(false);
    }
}
