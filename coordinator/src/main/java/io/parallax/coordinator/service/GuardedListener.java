package io.parallax.coordinator.service;

import io.parallax.coordinator.JobListener;
import io.parallax.coordinator.metrics.MetricsFailureNotes;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forwards to a metrics listener until it throws, then logs once and stops forwarding: a broken
 * metrics file must not fail the training it describes. The job's watchers get a note at once
 * when the listener threw (its metrics stop there while training goes on), when it says it
 * cannot write ({@link JobListener#failure()}: a full disk; the message says whether it will try
 * again), and when it has caught up.
 */
final class GuardedListener implements JobListener, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(GuardedListener.class);

    private final String jobId;
    private final JobListener delegate;
    private final Consumer<String> note;
    private boolean broken;
    private final MetricsFailureNotes failureNotes = new MetricsFailureNotes();

    GuardedListener(String jobId, JobListener delegate, Consumer<String> note) {
        this.jobId = jobId;
        this.delegate = delegate;
        this.note = note;
    }

    @Override
    public void onStep(StepReport step) {
        guard(() -> delegate.onStep(step));
    }

    @Override
    public void onParameters(long step, float[] parameters) {
        guard(() -> delegate.onParameters(step, parameters));
    }

    @Override
    public void onEpoch(EpochReport epoch) {
        guard(() -> delegate.onEpoch(epoch));
        if (broken) {
            return;
        }
        String told = failureNotes.next(delegate.failure());
        if (told != null) {
            if (failureNotes.failing() != null) {
                log.warn("job {}: metrics not written: {}", jobId, failureNotes.failing());
            } else {
                log.info("job {}: metrics are written again", jobId);
            }
            note.accept(told);
        }
    }

    @Override
    public void onEvent(String message) {
        guard(() -> delegate.onEvent(message));
    }

    private void guard(Runnable call) {
        if (broken) {
            return;
        }
        try {
            call.run();
        } catch (RuntimeException e) {
            broken = true;
            log.warn("job {}: metrics listener {} failed and is dropped: {}", jobId,
                    delegate.getClass().getSimpleName(), e.toString());
            note.accept("metrics are no longer written (" + e.getMessage() + "); training goes on");
        }
    }

    /** Closes the delegate if it is closeable; a failure is logged. */
    @Override
    public void close() {
        if (delegate instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                log.warn("job {}: closing metrics listener {} failed: {}", jobId,
                        delegate.getClass().getSimpleName(), e.toString());
            }
        }
    }
}
