package io.parallax.coordinator;

import java.io.IOException;
import java.util.Optional;

/** Hears what a running job does; called on the job's thread, so keep it quick. */
public interface JobListener {

    /**
     * For a listener that writes somewhere (a metrics file): why some of what it was given is not
     * written just now, if it is not (a full disk). The job's user should hear of it while the job
     * runs, not only when it ends. A listener that catches up later (the disk has room again)
     * answers empty again. Empty by default.
     */
    default Optional<IOException> failure() {
        return Optional.empty();
    }

    /** After each optimizer step. */
    default void onStep(StepReport step) {}

    /**
     * After each step, the master parameters it produced (step counts from 1). The array is the
     * runner's own: read it during the call, copy what must be kept.
     */
    default void onParameters(long step, float[] parameters) {}

    /** After each epoch's evaluation. */
    default void onEpoch(EpochReport epoch) {}

    /** A notable event in words (a worker lost, a step redone). */
    default void onEvent(String message) {}

    /**
     * One optimizer step.
     *
     * @param epoch      0-based (unlike {@link EpochReport#epoch()})
     * @param step       steps taken so far in the job, this one included (1-based)
     * @param planeNanos summed over workers: time spent fetching state and pushing gradients
     * @param planeBytes summed over workers: bytes moved by the tensor plane (0 in process)
     * @param phases     where the step's time went
     */
    record StepReport(int epoch, long step, int workers, int attempts, double loss, int rows, long planeNanos,
                      long planeBytes, long stepNanos, StepPhases phases) {

        /** A report without the per-phase split (all phases 0). */
        public StepReport(int epoch, long step, int workers, int attempts, double loss, int rows, long planeNanos,
                          long planeBytes, long stepNanos) {
            this(epoch, step, workers, attempts, loss, rows, planeNanos, planeBytes, stepNanos, StepPhases.NONE);
        }
    }

    /**
     * Where one step's time went (ns). The coordinator's side: {@code waitNanos} from sending the
     * step's commands (from the end of the previous step's update, when they were sent ahead
     * during it) to holding every worker's answer, {@code sumNanos} adding the gradients,
     * {@code updateNanos} clipping, the optimizer and publishing the next version. The workers'
     * side, summed over workers (of the attempt that counted): {@code fetchNanos} waiting for the
     * step's state, {@code computeNanos} the forward and backward passes, {@code pushNanos}
     * handing in the gradient.
     */
    record StepPhases(long waitNanos, long sumNanos, long updateNanos, long fetchNanos, long computeNanos,
                      long pushNanos) {

        /** No split measured. */
        public static final StepPhases NONE = new StepPhases(0, 0, 0, 0, 0, 0);
    }

    /** One epoch: mean training loss, validation loss and accuracy, training-loop throughput. */
    record EpochReport(int epoch, double trainLoss, double valLoss, double valAccuracy, double samplesPerSecond,
                       double elapsedSeconds, double learningRate, int workers, long redoneSteps) {}
}
