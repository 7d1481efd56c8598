package io.parallax.engine.train;

import io.parallax.engine.clip.GradientClipping;
import io.parallax.engine.schedule.LearningRateSchedule;

/**
 * How a {@link Trainer} runs.
 *
 * @param epochs       passes over the training set (≥ 1)
 * @param batchSize    samples per optimizer step (≥ 1); the last batch of an epoch may be smaller,
 *                     as PyTorch's DataLoader with drop_last=False
 * @param seed         seeds the per-epoch shuffle and the dropout masks
 * @param shuffle      reshuffle the training set each epoch
 * @param schedule     the learning rate per step or epoch; null keeps the optimizer's own rate
 * @param granularity  whether the schedule counts steps or epochs
 * @param clipping     gradient clipping before each optimizer step
 */
public record TrainingConfig(int epochs, int batchSize, long seed, boolean shuffle, LearningRateSchedule schedule,
                             LearningRateSchedule.Granularity granularity, GradientClipping clipping) {

    public TrainingConfig {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be ≥ 1, got " + epochs);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be ≥ 1, got " + batchSize);
        }
        if (granularity == null) {
            granularity = LearningRateSchedule.Granularity.EPOCH;
        }
        if (clipping == null) {
            clipping = GradientClipping.none();
        }
    }

    /** Shuffled, no schedule, no clipping. */
    public static TrainingConfig of(int epochs, int batchSize, long seed) {
        return new TrainingConfig(epochs, batchSize, seed, true, null, LearningRateSchedule.Granularity.EPOCH,
                GradientClipping.none());
    }
}
