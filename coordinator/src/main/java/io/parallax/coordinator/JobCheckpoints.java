package io.parallax.coordinator;

import io.parallax.engine.model.Sequential;
import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.train.TrainingPosition;
import java.util.Optional;

/**
 * Where a {@link JobRunner} resumes from and where it leaves a checkpoint at the end of an epoch,
 * so that a job outlives its coordinator: the weights, running statistics and optimizer state
 * after a whole number of epochs, from which the rest of the job trains exactly as it would have
 * straight on (the epoch's shuffle and dropout masks are keyed by seed and epoch, the schedule by
 * step or epoch, and the optimizer's counters come back with its buffers).
 */
public interface JobCheckpoints {

    /** Neither resumes nor saves. */
    JobCheckpoints NONE = new JobCheckpoints() {
        @Override
        public Optional<Resumed> restore(Sequential master, Optimizer optimizer) {
            return Optional.empty();
        }

        @Override
        public boolean due(int epochsDone) {
            return false;
        }

        @Override
        public void save(Sequential master, Optimizer optimizer, TrainingPosition position) {}
    };

    /**
     * Where a run picks up: {@code position} (at the start of an epoch), and the seconds the epochs
     * before it took, which the run's reports go on counting from. (Redone steps are counted from
     * the resumption.)
     */
    record Resumed(TrainingPosition position, double elapsedSeconds) {}

    /**
     * Loads the checkpoint to resume from into {@code master} and {@code optimizer} (built for the
     * job as for a fresh start); empty to start from the first epoch.
     *
     * @throws JobFailedException when there is one but it cannot be used
     */
    Optional<Resumed> restore(Sequential master, Optimizer optimizer) throws JobFailedException;

    /** Whether to save one now that {@code epochsDone} epochs are done (not asked after the last). */
    boolean due(int epochsDone);

    /**
     * Saves {@code master} (its parameters and buffers are the run's), {@code optimizer} and
     * {@code position}. A failure to write is the implementation's to report: training goes on.
     */
    void save(Sequential master, Optimizer optimizer, TrainingPosition position);
}
