package io.parallax.coordinator;

/** Hears what a running job does; called on the job's thread, so keep it quick. */
public interface JobListener {

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
     */
    record StepReport(int epoch, long step, int workers, int attempts, double loss, int rows, long planeNanos,
                      long planeBytes, long stepNanos) {}

    /** One epoch: mean training loss, validation loss and accuracy, training-loop throughput. */
    record EpochReport(int epoch, double trainLoss, double valLoss, double valAccuracy, double samplesPerSecond,
                       double elapsedSeconds, double learningRate, int workers, long redoneSteps) {}
}
