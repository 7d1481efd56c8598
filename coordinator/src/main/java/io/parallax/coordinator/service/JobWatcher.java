package io.parallax.coordinator.service;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.parallax.proto.v1.JobEvent;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One {@code WatchJob} stream. The queue hands it events under its lock; it buffers them and
 * sends them on the service's executor only while the client's transport is ready (gRPC flow
 * control), numbering them 1, 2, … as they go out. A slow client never slows training: once
 * {@value #MAX_BACKLOG} events wait, further per-step progress events are dropped for it (each
 * one supersedes the last); state changes, epoch metrics and the finished record never are.
 * Step progress is also sent at most every {@link #STEP_INTERVAL_NANOS} (and always for an
 * epoch's last step): a job of thousands of steps per second sent each to each watcher, and
 * a hundred watchers slowed training by a third. A client that cancels is unsubscribed from
 * the queue.
 */
final class JobWatcher implements JobQueue.EventSink {

    /** Events buffered per client before step progress is thinned out. */
    static final int MAX_BACKLOG = 256;
    /** The least time between two step progress events to one client: ten a second. */
    static final long STEP_INTERVAL_NANOS = 100_000_000L;

    private final ServerCallStreamObserver<JobEvent> out;
    private final Executor executor;
    private final long stepIntervalNanos;
    private long lastStepNanos;
    private boolean anyStep;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final ArrayDeque<JobEvent> buffer = new ArrayDeque<>();
    private long sequence;
    private boolean finished;
    private boolean closed;
    private Runnable unsubscribe;

    /** Takes over {@code out}'s readiness and cancellation; call on the handler's thread before it returns. */
    JobWatcher(ServerCallStreamObserver<JobEvent> out, Executor executor) {
        this(out, executor, STEP_INTERVAL_NANOS);
    }

    /** With another step interval (0: every step, as tests of the buffering need). */
    JobWatcher(ServerCallStreamObserver<JobEvent> out, Executor executor, long stepIntervalNanos) {
        this.out = out;
        this.executor = executor;
        this.stepIntervalNanos = stepIntervalNanos;
        out.setOnReadyHandler(this::schedule);
        out.setOnCancelHandler(this::cancelled);
    }

    /** Remembers how to leave the queue; leaves at once if the client is already gone. */
    void attach(Runnable unsubscribe) {
        boolean gone;
        synchronized (this) {
            this.unsubscribe = unsubscribe;
            gone = closed;
        }
        if (gone) {
            unsubscribe.run();
        }
    }

    @Override
    public void accept(JobEvent event) {
        synchronized (this) {
            if (closed || finished) {
                return;
            }
            if (event.hasStep()) {
                long now = System.nanoTime();
                boolean epochEnd = event.getStep().getStepInEpoch() == event.getStep().getStepsInEpoch();
                if (buffer.size() >= MAX_BACKLOG
                        || (anyStep && !epochEnd && now - lastStepNanos < stepIntervalNanos)) {
                    return;
                }
                anyStep = true;
                lastStepNanos = now;
            }
            buffer.addLast(event);
            finished = event.hasFinished();
        }
        schedule();
    }

    @Override
    public void abort(String reason) {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            buffer.clear();
            out.onError(Status.UNAVAILABLE.withDescription(reason).asRuntimeException());
        }
    }

    private void cancelled() {
        Runnable leave;
        synchronized (this) {
            closed = true;
            buffer.clear();
            leave = unsubscribe;
        }
        if (leave != null) {
            leave.run();
        }
    }

    private void schedule() {
        if (scheduled.compareAndSet(false, true)) {
            try {
                executor.execute(this::drain);
            } catch (RejectedExecutionException e) {
                // the service is shutting down; its streams end with the server
                scheduled.set(false);
            }
        }
    }

    private void drain() {
        // cleared first: an event arriving while we send schedules another pass, never none
        scheduled.set(false);
        synchronized (this) {
            if (closed) {
                return;
            }
            while (!buffer.isEmpty() && out.isReady()) {
                out.onNext(buffer.pollFirst().toBuilder().setSequence(++sequence).build());
            }
            if (buffer.isEmpty() && finished) {
                closed = true;
                out.onCompleted();
            }
        }
    }
}
