package io.parallax.coordinator.service;

import static io.parallax.coordinator.service.ServiceFixture.awaitEpochs;
import static io.parallax.coordinator.service.ServiceFixture.finished;
import static io.parallax.coordinator.service.ServiceFixture.get;
import static io.parallax.coordinator.service.ServiceFixture.model;
import static io.parallax.coordinator.service.ServiceFixture.submit;
import static io.parallax.coordinator.service.ServiceFixture.watchAll;
import static io.parallax.coordinator.service.ServiceFixture.withDeadline;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.parallax.coordinator.metrics.MetricsSinks;
import io.parallax.proto.v1.EpochMetrics;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobEvent;
import io.parallax.proto.v1.JobId;
import io.parallax.proto.v1.JobServiceGrpc;
import io.parallax.proto.v1.JobSpec;
import io.parallax.proto.v1.JobState;
import io.parallax.worker.job.JobFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job the coordinator was running when it stopped — cleanly or by a crash — resumes from its
 * last checkpoint when the coordinator starts again, and ends with the very weights of a run that
 * was never interrupted.
 */
class ResumeAfterRestartTest {

    private static final int EPOCHS = 10;
    /** 455 training rows (80% of 569) in batches of 4. */
    private static final int STEPS_PER_EPOCH = 114;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path state;

    /**
     * Dropout (masks keyed by seed, epoch and row), a per-step schedule and Adam's moments: each
     * would come out different if the resumed run did not pick up exactly where the first stopped.
     */
    private static JobSpec job(String name) {
        return JobFiles.parse("""
                {
                  "name": "%s",
                  "model": {"layers": [{"linear": {"out_features": 32}}, {"activation": {"type": "relu"}},
                                       {"dropout": {"p": 0.2}}, {"linear": {"out_features": 2}}]},
                  "loss": "cross_entropy",
                  "optimizer": {"name": "adam", "lr": 0.01},
                  "schedule": {"type": "cosine", "granularity": "step"},
                  "data": {"train": {"csv": {"path": "data/breast_cancer.csv", "label_column": "target"}},
                           "validation_split": 0.2, "normalization": "standardize"},
                  "batch_size": 4, "epochs": %d, "seed": 11
                }""".formatted(name, EPOCHS));
    }

    private static Job readRecord(Path file) throws java.io.IOException {
        Job.Builder b = Job.newBuilder();
        com.google.protobuf.util.JsonFormat.parser().merge(Files.readString(file), b);
        return b.build();
    }

    private static String recordJson(Job job) throws java.io.IOException {
        return com.google.protobuf.util.JsonFormat.printer().preservingProtoFieldNames().print(job);
    }

    private ServiceFixture fixture() throws Exception {
        return new ServiceFixture(state, List.of(ServiceFixture.EXAMPLES), 50, false, Duration.ZERO);
    }

    /** The straight run's model, from a job nobody interrupts. */
    private static byte[] straightRun(JobServiceGrpc.JobServiceBlockingStub stub) {
        String id = submit(stub, job("straight"));
        Job done = finished(stub, id);
        assertEquals(JobState.SUCCEEDED, done.getState(), done.getReason());
        return model(stub, id);
    }

    /** The job's record ends with every epoch once, in order, and so does its metrics.jsonl. */
    private static void assertEveryEpochOnce(Job job, Path jobDir) throws Exception {
        assertEquals(EPOCHS, job.getEpochsCount(), job.toString());
        for (int i = 0; i < EPOCHS; i++) {
            assertEquals(i + 1, job.getEpochs(i).getEpoch());
        }
        List<String> lines = Files.readAllLines(jobDir.resolve(MetricsSinks.METRICS_FILE));
        assertEquals(EPOCHS, lines.size(), String.join("\n", lines));
        for (int i = 0; i < EPOCHS; i++) {
            assertEquals(i + 1, JSON.readTree(lines.get(i)).get("epoch").asInt());
        }
        // elapsed time goes on from the epochs before the checkpoint
        for (int i = 1; i < EPOCHS; i++) {
            EpochMetrics a = job.getEpochs(i - 1);
            EpochMetrics b = job.getEpochs(i);
            assertTrue(b.getElapsedSeconds() > a.getElapsedSeconds(), a + " then " + b);
        }
        assertFalse(Files.exists(jobDir.resolve(JobStore.CHECKPOINT)), "the checkpoint goes when the job ends");
    }

    /** What a test does to a job's files while its coordinator is stopped. */
    private interface WhileStopped {
        void run(ServiceFixture fx, String id) throws java.io.IOException;
    }

    /**
     * Runs the job once straight, then again stopped with the coordinator after its third epoch
     * ({@code whileStopped} runs on what that left): the second run resumes, ends SUCCEEDED with
     * every epoch once, and with the straight run's model.
     */
    private void stopResumeAndCompare(String name, WhileStopped whileStopped) throws Exception {
        try (ServiceFixture fx = fixture()) {
            JobServiceGrpc.JobServiceBlockingStub stub = fx.stub();
            byte[] straight = straightRun(stub);

            fx.holdAtEpoch(name, 3);
            String id = submit(stub, job(name));
            awaitEpochs(stub, id, 3);
            long firstStart = get(stub, id).getStartedAtMs();
            assertTrue(firstStart > 0);
            assertEquals(0, get(stub, id).getResumedAtMs(), "not resumed yet");
            fx.restart(() -> whileStopped.run(fx, id));
            stub = fx.stub();

            Job resumed = get(stub, id);
            assertTrue(resumed.getState() == JobState.QUEUED || resumed.getState() == JobState.RUNNING
                    || resumed.getState() == JobState.SUCCEEDED, resumed.toString());
            Job done = finished(stub, id);
            assertEquals(JobState.SUCCEEDED, done.getState(), done.getReason());
            assertEquals(firstStart, done.getStartedAtMs(), "started is the job's first start");
            assertTrue(done.getResumedAtMs() > firstStart && done.getResumedAtMs() <= done.getFinishedAtMs(),
                    done.toString());
            assertEveryEpochOnce(done, fx.store.jobDir(id));
            assertArrayEquals(straight, model(stub, id), "the resumed run's weights are the straight run's");
        }
    }

    @Test
    void aJobStoppedWithTheCoordinatorIsQueuedAgainAndResumesToTheWeightsOfAStraightRun() throws Exception {
        stopResumeAndCompare("stopped", (fx, id) -> {
            Job left = readRecord(fx.store.jobDir(id).resolve(JobStore.RECORD));
            assertEquals(JobState.QUEUED, left.getState(), left.toString());
            assertTrue(left.getEpochsDone() >= 3 && left.getEpochsDone() < EPOCHS, left.toString());
            assertEquals(left.getEpochsDone(), left.getEpochsCount());
            // the checkpoint is where the stop found it, a few steps after epoch 3 at least
            long inEpoch = left.getStepsDone() - (long) left.getEpochsDone() * STEPS_PER_EPOCH;
            assertTrue(inEpoch >= 0 && inEpoch < STEPS_PER_EPOCH, left.toString());
            assertTrue(left.getLastNote().endsWith("resumes from its checkpoint " + (inEpoch == 0
                    ? "after epoch " + left.getEpochsDone()
                    : "in epoch " + (left.getEpochsDone() + 1) + ", after its step " + inEpoch)), left.getLastNote());
            assertTrue(Files.exists(fx.store.checkpointFile(id)));
        });
    }

    @Test
    void aJobRunningWhenTheCoordinatorCrashedResumesFromItsCheckpoint() throws Exception {
        stopResumeAndCompare("crashed", (fx, id) -> {
            // what a crash leaves: the record RUNNING (written just before the checkpoint),
            // and metrics.jsonl with an epoch past the checkpoint that will be done again
            Path dir = fx.store.jobDir(id);
            Path record = dir.resolve(JobStore.RECORD);
            Job left = readRecord(record);
            Files.writeString(record, recordJson(left.toBuilder().setState(JobState.RUNNING)
                    .setLastNote("").build()));
            Files.writeString(dir.resolve(MetricsSinks.METRICS_FILE),
                    "{\"epoch\": " + (left.getEpochsDone() + 1) + ", \"train_loss\": 9}\n",
                    java.nio.file.StandardOpenOption.APPEND);
        });
    }

    @Test
    void aCheckpointThatCannotBeReadFailsTheJobAsBefore() throws Exception {
        try (ServiceFixture fx = fixture()) {
            JobServiceGrpc.JobServiceBlockingStub stub = fx.stub();
            String id = submit(stub, job("torn"));
            awaitEpochs(stub, id, 2);
            Path dir = fx.store.jobDir(id);
            fx.restart(() -> {
                Path record = dir.resolve(JobStore.RECORD);
                Job left = readRecord(record);
                Files.writeString(record, recordJson(left.toBuilder().setState(JobState.RUNNING).build()));
                Files.write(dir.resolve(JobStore.CHECKPOINT), new byte[] {1, 2, 3});
            });
            stub = fx.stub();

            Job failed = get(stub, id);
            assertEquals(JobState.FAILED, failed.getState(), failed.toString());
            assertTrue(failed.getReason().startsWith(JobStore.RESTARTED + " (its checkpoint cannot be read"),
                    failed.getReason());
            assertFalse(Files.exists(dir.resolve(JobStore.CHECKPOINT)));
        }
    }
}
