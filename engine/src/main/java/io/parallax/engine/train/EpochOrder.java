package io.parallax.engine.train;

import io.parallax.engine.random.CounterRng;
import java.util.SplittableRandom;

/**
 * The order in which an epoch visits the training rows: a Fisher–Yates shuffle drawn from
 * (seed, epoch) alone, so the single-process trainer, the coordinator and a resumed run all cut
 * the same batches.
 */
public final class EpochOrder {

    private EpochOrder() {}

    /** Rows 0..rows−1, shuffled for {@code epoch} when {@code shuffle}, else in order. */
    public static int[] of(int rows, long seed, int epoch, boolean shuffle) {
        int[] order = new int[rows];
        for (int i = 0; i < rows; i++) {
            order[i] = i;
        }
        if (shuffle) {
            SplittableRandom rng = new SplittableRandom(CounterRng.key(seed, epoch, 0x5eed));
            for (int i = rows - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int tmp = order[i];
                order[i] = order[j];
                order[j] = tmp;
            }
        }
        return order;
    }
}
