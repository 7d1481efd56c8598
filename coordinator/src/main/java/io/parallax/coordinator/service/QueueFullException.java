package io.parallax.coordinator.service;

/** The job queue holds as many waiting jobs as it may; the client should try again later. */
public final class QueueFullException extends Exception {

    private static final long serialVersionUID = 1L;

    public QueueFullException(int capacity) {
        super("the job queue is full (" + capacity + (capacity == 1 ? " job" : " jobs")
                + " waiting); try again when one has started");
    }
}
