package io.parallax.coordinator;

import io.parallax.engine.model.Sequential;
import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.train.TrainingPosition;
import java.util.Optional;

/**
 * Where a {@link JobRunner} resumes from and where it leaves its checkpoints, so that a job
 * outlives its coordinator: the weights, running statistics and optimizer state after a whole
 * number of steps, from which the rest of the job trains exactly as it would have straight on
 * (the epoch's shuffle and dropout masks are keyed by seed and epoch, the schedule by step or
 * epoch, and the optimizer's counters come back with its buffers). A run saves one after an
 * epoch or a step when {@link #due} says so, and one where it stops when it is cancelled, stopped
 * with its coordinator, or loses its workers.
 */
public interface JobCheckpoints {

    /** Neither resumes nor saves. */
    JobCheckpoints NONE = new JobCheckpoints() {
        @Override
        public Optional<Resumed> restore(Sequential master, Optimizer optimizer) {
            return Optional.empty();
        }

        @Override
        public boolean due(boolean epochEnd) {
            return false;
        }

        @Override
        public boolean enabled() {
            return false;
        }

        @Override
        public void save(Sequential master, Optimizer optimizer, TrainingPosition position, double elapsedSeconds,
                EpochSoFar soFar, TrainedOn data) {}
    };

    /**
     * The part of an epoch trained before a checkpoint taken inside it: what the epoch's report
     * needs of those steps (its train loss is the mean over all of its rows, its samples/s over
     * its whole training time).
     *
     * @param lossSum      the loss summed over the rows trained so far in the epoch
     * @param trainSeconds the seconds those steps took
     */
    record EpochSoFar(double lossSum, double trainSeconds) {
        /** At an epoch's start. */
        public static final EpochSoFar NONE = new EpochSoFar(0, 0);
    }

    /**
     * The data a checkpoint's run trained on: a resumed run on other data (a file regenerated,
     * a mount of another version) would go on from a position that means something else there,
     * its epochs' rows and steps changed under it.
     *
     * @param digest    the training and validation sets' contents ({@code Dataset.digest})
     * @param trainRows the training set's rows
     */
    record TrainedOn(long digest, int trainRows) {}

    /**
     * Where a run picks up: {@code position}, the seconds the run had taken up to it, which its
     * reports go on counting from (redone steps are counted from the resumption), the part of
     * the epoch trained before it, and the data it trained on (null for a checkpoint written
     * before 2026-11-23, which did not say).
     */
    record Resumed(TrainingPosition position, double elapsedSeconds, EpochSoFar epochSoFar, TrainedOn data) {}

    /**
     * Loads the checkpoint to resume from into {@code master} and {@code optimizer} (built for the
     * job as for a fresh start); empty to start from the first epoch.
     *
     * @throws JobFailedException when there is one but it cannot be used
     */
    Optional<Resumed> restore(Sequential master, Optimizer optimizer) throws JobFailedException;

    /**
     * Whether to save one now: at the end of an epoch ({@code epochEnd}, not asked after the last
     * one) or after a step inside one.
     */
    boolean due(boolean epochEnd);

    /** Whether this saves at all: a run that stops saves where it stopped only then. */
    default boolean enabled() {
        return true;
    }

    /**
     * Saves {@code master} (its parameters and buffers are the run's), {@code optimizer} and
     * {@code position}, with the run's seconds so far and the part of the current epoch trained
     * ({@link EpochSoFar#NONE} at an epoch's start), and the data trained on. A failure to write
     * is the implementation's to report: training goes on.
     */
    void save(Sequential master, Optimizer optimizer, TrainingPosition position, double elapsedSeconds,
            EpochSoFar soFar, TrainedOn data);

    /** Where {@code at} stands, in words: "after epoch 3", or "in epoch 4, after its step 120". */
    static String where(TrainingPosition at) {
        return at.stepInEpoch() == 0 ? "after epoch " + at.epoch()
                : "in epoch " + (at.epoch() + 1) + ", after its step " + at.stepInEpoch();
    }
}
