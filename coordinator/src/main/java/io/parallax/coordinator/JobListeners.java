package io.parallax.coordinator;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * Several {@link JobListener}s heard as one, in order. Closing it closes every listener that is
 * {@link AutoCloseable}, all of them even when one fails (the first failure is thrown, the
 * others attached to it).
 */
public final class JobListeners implements JobListener, AutoCloseable {

    private final List<JobListener> listeners;

    private JobListeners(List<JobListener> listeners) {
        this.listeners = List.copyOf(listeners);
    }

    public static JobListeners of(JobListener... listeners) {
        return new JobListeners(List.of(listeners));
    }

    @Override
    public void onStep(StepReport step) {
        for (JobListener l : listeners) {
            l.onStep(step);
        }
    }

    @Override
    public void onParameters(long step, float[] parameters) {
        for (JobListener l : listeners) {
            l.onParameters(step, parameters);
        }
    }

    @Override
    public void onEpoch(EpochReport epoch) {
        for (JobListener l : listeners) {
            l.onEpoch(epoch);
        }
    }

    /** The first failure of its listeners, in order. */
    @Override
    public Optional<IOException> failure() {
        for (JobListener l : listeners) {
            Optional<IOException> f = l.failure();
            if (f.isPresent()) {
                return f;
            }
        }
        return Optional.empty();
    }

    @Override
    public void onEvent(String message) {
        for (JobListener l : listeners) {
            l.onEvent(message);
        }
    }

    @Override
    public void close() throws Exception {
        Exception first = closeAll(listeners);
        if (first != null) {
            throw first;
        }
    }

    /**
     * Closes every element that is {@link AutoCloseable}, all of them even when one fails, and
     * returns the first failure with the later ones attached as suppressed (null if none failed).
     */
    public static Exception closeAll(List<?> closeables) {
        Exception first = null;
        for (Object o : closeables) {
            if (o instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    if (first == null) {
                        first = e;
                    } else {
                        first.addSuppressed(e);
                    }
                }
            }
        }
        return first;
    }
}
