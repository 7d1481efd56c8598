package io.parallax.engine.train;

/**
 * Where a {@link Trainer} stands: the next batch it will train. Together with the model and the
 * optimizer state this is everything a run needs to continue exactly, because the trainer's
 * randomness is a pure function of it: the shuffle order of an epoch is keyed by
 * ({@code seed}, {@code epoch}), dropout masks by ({@code seed}, {@code epoch}, sample id), and
 * a schedule by {@code globalStep} or {@code epoch}.
 *
 * @param epoch        the epoch of the next step (0-based)
 * @param stepInEpoch  batches of that epoch already trained; the next step trains batch
 *                     {@code stepInEpoch} of the epoch's order (0 at an epoch's start)
 * @param globalStep   steps taken since the run began (the counter of a per-step schedule)
 * @param seed         the run's {@link TrainingConfig#seed()}
 * @param batchSize    the run's {@link TrainingConfig#batchSize()}, which fixes where each batch
 *                     starts in the epoch's order
 */
public record TrainingPosition(int epoch, long stepInEpoch, long globalStep, long seed, int batchSize) {

    /** Checks the counters. */
    public TrainingPosition {
        if (epoch < 0 || stepInEpoch < 0 || globalStep < 0) {
            throw new IllegalArgumentException("a training position needs epoch, step in epoch and global step >= 0, "
                    + "got epoch " + epoch + ", step in epoch " + stepInEpoch + ", global step " + globalStep);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("a training position needs a batch size >= 1, got " + batchSize);
        }
    }

    /** The start of a run with {@code config}: epoch 0, step 0. */
    public static TrainingPosition start(TrainingConfig config) {
        return new TrainingPosition(0, 0, 0, config.seed(), config.batchSize());
    }

    @Override
    public String toString() {
        return "epoch " + epoch + ", step " + stepInEpoch + " of the epoch, global step " + globalStep + " (seed "
                + seed + ", batch size " + batchSize + ")";
    }
}
