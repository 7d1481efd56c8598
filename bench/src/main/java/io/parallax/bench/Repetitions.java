package io.parallax.bench;

import java.util.Arrays;

/**
 * Times a piece of work the way a benchmark table needs it: a warm-up (so the JIT has compiled
 * the hot loops and the caches hold the working set), then several repetitions of a batch of
 * calls long enough that the clock's resolution and one-off hiccups do not matter. Reports the
 * median (the figure to quote on a shared, noisy machine) and the best (what the code can do when
 * nothing else runs).
 */
public final class Repetitions {

    private final long warmupNanos;
    private final long repNanos;
    private final int reps;

    /**
     * @param warmupMillis how long to run the work before measuring
     * @param repMillis    the target length of one repetition
     * @param reps         how many repetitions to time
     */
    public Repetitions(long warmupMillis, long repMillis, int reps) {
        if (warmupMillis < 0 || repMillis <= 0 || reps < 1) {
            throw new IllegalArgumentException("need warm-up ≥ 0 ms, repetition > 0 ms and ≥ 1 repetition, got "
                    + warmupMillis + ", " + repMillis + ", " + reps);
        }
        this.warmupNanos = warmupMillis * 1_000_000L;
        this.repNanos = repMillis * 1_000_000L;
        this.reps = reps;
    }

    /** Seconds per call of {@code work}: one entry per repetition, in the order they ran. */
    public double[] secondsPerCall(Runnable work) {
        int callsPerRep = calibrate(work);
        double[] perCall = new double[reps];
        for (int r = 0; r < reps; r++) {
            perCall[r] = timeCalls(work, callsPerRep) / callsPerRep;
        }
        return perCall;
    }

    /**
     * Two kinds of work timed in alternating repetitions (a, b, a, b, …), so that a burst of load
     * from another process hits both alike and their ratio stays meaningful.
     */
    public double[][] secondsPerCallInterleaved(Runnable a, Runnable b) {
        int callsA = calibrate(a);
        int callsB = calibrate(b);
        double[][] perCall = new double[2][reps];
        for (int r = 0; r < reps; r++) {
            perCall[0][r] = timeCalls(a, callsA) / callsA;
            perCall[1][r] = timeCalls(b, callsB) / callsB;
        }
        return perCall;
    }

    /** Runs the warm-up and returns how many calls fill one repetition. */
    private int calibrate(Runnable work) {
        long start = System.nanoTime();
        long calls = 0;
        while (System.nanoTime() - start < warmupNanos || calls < 3) {
            work.run();
            calls++;
        }
        double perCall = timeCalls(work, 5) / 5;
        return (int) Math.max(1, Math.min(1_000_000, Math.round(repNanos / 1e9 / perCall)));
    }

    private static double timeCalls(Runnable work, int calls) {
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            work.run();
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** The median of {@code xs}. */
    public static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** The smallest of {@code xs}. */
    public static double best(double[] xs) {
        return Arrays.stream(xs).min().orElse(Double.NaN);
    }
}
