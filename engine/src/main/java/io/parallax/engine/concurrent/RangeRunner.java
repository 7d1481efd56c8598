package io.parallax.engine.concurrent;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs an element-wise loop over {@code [0, n)} split into contiguous parts, one per thread: the
 * caller's thread and a few long-lived helper threads take parts until none is left. Made for the
 * coordinator's serial section of a step (summing the workers' gradients, the optimizer,
 * publishing), which walks vectors of a few hundred thousand floats while every worker waits: a
 * pass of ~50 µs is too short for an executor's queue and wake-up.
 *
 * <p>How the hand-off stays cheap: parts are claimed, not assigned, so a helper that is slow to
 * wake costs nothing (the caller runs its part too); {@link #wake()} wakes the helpers ahead of a
 * burst of passes, and after each part a helper spins a short while for the next one, parking
 * only when none comes; {@link #rest()} sends them to park at once after the burst, so that they
 * do not spin on a core the workers need.
 *
 * <p>Each part's bounds are multiples of {@link #ALIGN} elements (no two threads write one cache
 * line), and a loop shorter than {@link #MIN_PARALLEL} runs on the caller alone. Element-wise
 * loops give the same bits however they are split. A part that throws is rethrown on the caller
 * after every part has ended.
 *
 * <p>One caller at a time; {@link #close()} stops the helpers.
 */
public final class RangeRunner implements AutoCloseable {

    /**
     * One part of the loop: elements {@code [from, to)}. {@code part} is the part's number, below
     * {@link #threads()}, whichever thread runs it.
     */
    @FunctionalInterface
    public interface Body {
        void run(int part, int from, int to);
    }

    /** Part bounds are multiples of this many elements: 64 floats are four cache lines. */
    public static final int ALIGN = 64;
    /** Loops shorter than this run on the caller: a hand-off costs more than they take. */
    public static final int MIN_PARALLEL = 32_768;
    /** How long a helper looks for the next part before parking. */
    private static final long SPIN_NANOS = 30_000;

    private final Helper[] helpers;
    /** The last loop started; helpers claim its parts. */
    private volatile Loop current;
    private volatile boolean resting = true;
    private volatile boolean closed;

    /** One call of {@link #run}: what helpers see of it, as one consistent snapshot. */
    private static final class Loop {
        final Body body;
        final int length;
        final int parts;
        /** The next part to claim; numbers at or past {@link #parts} are none. */
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger unfinished;
        volatile Throwable failure;

        Loop(Body body, int length, int parts) {
            this.body = body;
            this.length = length;
            this.parts = parts;
            this.unfinished = new AtomicInteger(parts);
        }

        /** Runs parts until none is left to claim; a part that throws still counts as ended. */
        void claimParts() {
            for (int i = next.getAndIncrement(); i < parts; i = next.getAndIncrement()) {
                try {
                    body.run(i, bound(i, parts, length), bound(i + 1, parts, length));
                } catch (Throwable e) { // Errors too, and checked exceptions thrown past the compiler
                    failure = e;
                } finally {
                    unfinished.decrementAndGet();
                }
            }
        }
    }

    private RangeRunner(int threads, String name) {
        helpers = new Helper[threads - 1];
        for (int i = 0; i < helpers.length; i++) {
            helpers[i] = new Helper(name + "-" + (i + 1));
            helpers[i].start();
        }
    }

    /**
     * A runner over {@code threads} threads in all, the caller's included (1: no helper threads,
     * every loop runs on the caller).
     *
     * @param name the helper threads' name prefix
     */
    public static RangeRunner of(int threads, String name) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        return new RangeRunner(threads, name);
    }

    /** A runner with no helper threads. */
    public static RangeRunner serial() {
        return new RangeRunner(1, "unused");
    }

    /** Threads a loop may be split over, the caller's included; also the number of parts. */
    public int threads() {
        return helpers.length + 1;
    }

    /** Wakes parked helpers to spin for the next loop: call it a few microseconds ahead of a burst. */
    public void wake() {
        resting = false;
        for (Helper h : helpers) {
            h.unparkIfParked();
        }
    }

    /** After the current burst, helpers park at once instead of spinning for a next loop. */
    public void rest() {
        resting = true;
    }

    /** Runs {@code body} over {@code [0, n)} and returns when every part has ended. */
    public void run(int n, Body body) {
        if (n < 0) {
            throw new IllegalArgumentException("negative length " + n);
        }
        int k = helpers.length == 0 || n < MIN_PARALLEL ? 1 : Math.min(threads(), n / ALIGN);
        if (k == 1) {
            body.run(0, 0, n);
            return;
        }
        if (closed) {
            throw new IllegalStateException("runner closed");
        }
        Loop loop = new Loop(body, n, k);
        current = loop;
        wake();
        loop.claimParts();
        // a helper that claimed a part and lost its core: after a spin, give the core away
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (loop.unfinished.get() != 0) {
            if (System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
        current = null;
        Throwable failure = loop.failure;
        if (failure instanceof RuntimeException r) {
            throw r;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new IllegalStateException("a part threw " + failure, failure);
        }
    }

    /** Where part {@code i} of {@code k} starts (part k: n). */
    private static int bound(int i, int k, int n) {
        if (i >= k) {
            return n;
        }
        long start = (long) n * i / k;
        return (int) (start / ALIGN * ALIGN);
    }

    @Override
    public void close() {
        closed = true;
        for (Helper h : helpers) {
            LockSupport.unpark(h);
        }
    }

    /** A thread that claims parts of each loop it sees start. */
    private final class Helper extends Thread {
        private Loop seen;
        private volatile boolean parked;

        Helper(String name) {
            super(name);
            setDaemon(true);
        }

        void unparkIfParked() {
            if (parked) {
                LockSupport.unpark(this);
            }
        }

        @Override
        public void run() {
            while (!closed) {
                Loop loop = current;
                if (loop == null || loop == seen) {
                    idle();
                    continue;
                }
                seen = loop;
                loop.claimParts(); // nothing, if the caller has claimed every part already
                // a part that left its interrupt flag set would make every park return at once
                Thread.interrupted();
            }
        }

        /** Spins for a while (unless resting), then parks, until a loop starts or a wake-up. */
        private void idle() {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (!loopWaiting() && !resting && System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
            }
            if (loopWaiting()) {
                return;
            }
            parked = true;
            if (!loopWaiting()) {
                LockSupport.park(this);
            }
            parked = false;
        }

        private boolean loopWaiting() {
            Loop loop = current;
            return closed || (loop != null && loop != seen);
        }
    }
}
