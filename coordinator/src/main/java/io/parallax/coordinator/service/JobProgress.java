package io.parallax.coordinator.service;

import io.parallax.coordinator.JobListener;
import io.parallax.proto.v1.EpochMetrics;
import io.parallax.proto.v1.StepProgress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a running job's {@link JobListener} callbacks into the job API's messages: a
 * {@link StepProgress} per step (with the epoch's throughput so far and the time its remaining
 * rows will take at that rate) and an {@link EpochMetrics} per epoch.
 */
final class JobProgress implements JobListener {

    /** Where the messages go; called on the job's thread. */
    interface Sink {
        void step(StepProgress step, int workers);

        void epoch(EpochMetrics epoch);

        /** A notice about the job in words (a worker lost, a step redone); watchers see it. */
        default void note(String message) {}
    }

    private static final Logger log = LoggerFactory.getLogger(JobProgress.class);

    private final String jobId;
    private final long stepsPerEpoch;
    private final long stepsTotal;
    private final int trainRows;
    private final Sink sink;
    private int epoch = -1;
    private long epochStartNanos;
    private long epochRows;

    JobProgress(String jobId, long stepsPerEpoch, int epochs, int trainRows, Sink sink) {
        this.jobId = jobId;
        this.stepsPerEpoch = stepsPerEpoch;
        this.stepsTotal = stepsPerEpoch * epochs;
        this.trainRows = trainRows;
        this.sink = sink;
    }

    @Override
    public void onStep(StepReport r) {
        long now = System.nanoTime();
        if (r.epoch() != epoch) {
            epoch = r.epoch();
            epochStartNanos = now - r.stepNanos();
            epochRows = 0;
        }
        epochRows += r.rows();
        double seconds = Math.max(1e-9, (now - epochStartNanos) / 1e9);
        double rate = epochRows / seconds;
        sink.step(StepProgress.newBuilder()
                .setEpoch(r.epoch() + 1)
                .setStepInEpoch(r.step() - (long) r.epoch() * stepsPerEpoch)
                .setStepsInEpoch(stepsPerEpoch)
                .setStep(r.step())
                .setStepsTotal(stepsTotal)
                .setLoss(r.loss())
                .setSamplesPerSecond(rate)
                .setEpochSecondsLeft(Math.max(0, trainRows - epochRows) / rate)
                .build(), r.workers());
    }

    @Override
    public void onEpoch(EpochReport r) {
        sink.epoch(EpochMetrics.newBuilder()
                .setEpoch(r.epoch())
                .setTrainLoss(r.trainLoss())
                .setValLoss(r.valLoss())
                .setValAccuracy(r.valAccuracy())
                .setSamplesPerSecond(r.samplesPerSecond())
                .setElapsedSeconds(r.elapsedSeconds())
                .setLearningRate(r.learningRate())
                .setWorkers(r.workers())
                .build());
    }

    @Override
    public void onEvent(String message) {
        log.info("job {}: {}", jobId, message);
        sink.note(message);
    }
}
