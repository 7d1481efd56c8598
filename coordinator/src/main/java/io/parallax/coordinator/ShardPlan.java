package io.parallax.coordinator;

import java.util.Arrays;

/**
 * Splits a batch's rows into contiguous shards, one per worker, whose sizes differ by at most
 * one (the first {@code rows % workers} shards get the extra row). The split never changes the
 * math: each worker returns the gradient of the loss summed over its rows, and the sum over
 * shards is the batch's.
 */
public final class ShardPlan {

    private ShardPlan() {}

    /** The shards of {@code rows} for {@code workers} workers; empty shards when rows &lt; workers. */
    public static int[][] split(int[] rows, int workers) {
        if (workers < 1) {
            throw new IllegalArgumentException("a batch needs at least one worker, got " + workers);
        }
        int[][] shards = new int[workers][];
        int base = rows.length / workers;
        int extra = rows.length % workers;
        int from = 0;
        for (int w = 0; w < workers; w++) {
            int size = base + (w < extra ? 1 : 0);
            shards[w] = Arrays.copyOfRange(rows, from, from + size);
            from += size;
        }
        return shards;
    }

    /** [from, count) ranges splitting {@code total} rows over {@code workers}, same rule. */
    public static int[][] ranges(int total, int workers) {
        int[][] ranges = new int[workers][2];
        int base = total / workers;
        int extra = total % workers;
        int from = 0;
        for (int w = 0; w < workers; w++) {
            int size = base + (w < extra ? 1 : 0);
            ranges[w][0] = from;
            ranges[w][1] = size;
            from += size;
        }
        return ranges;
    }
}
