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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.parallax.coordinator.metrics.MetricsSinks;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobEvent;
import io.parallax.proto.v1.JobId;
import io.parallax.proto.v1.JobServiceGrpc;
import io.parallax.proto.v1.JobSpec;
import io.parallax.proto.v1.JobState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ResumeJob}: a job that failed (its data away when it resumed after a restart) or was
 * cancelled keeps its checkpoint, and goes on from it on request to the weights of a run that was
 * never interrupted; every other job is refused with a reason.
 */
class ResumeJobTest {

    private static final int EPOCHS = 8;
    /** 455 training rows (80% of 569) in batches of 4. */
    private static final int STEPS_PER_EPOCH = 114;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path state;

    @TempDir
    Path data;

    /** The breast-cancer table, in this test's own data root where a test can take it away. */
    private Path table;

    @BeforeEach
    void copyTheTable() throws java.io.IOException {
        table = Files.copy(ServiceFixture.EXAMPLES.resolve("data/breast_cancer.csv"), data.resolve("table.csv"));
    }

    /** Dropout and Adam: a resumed run that did not pick up exactly where the first stopped would differ. */
    private JobSpec job(String name) {
        return io.parallax.worker.job.JobFiles.parse("""
                {
                  "name": "%s",
                  "model": {"layers": [{"linear": {"out_features": 16}}, {"activation": {"type": "relu"}},
                                       {"dropout": {"p": 0.2}}, {"linear": {"out_features": 2}}]},
                  "loss": "cross_entropy",
                  "optimizer": {"name": "adam", "lr": 0.01},
                  "data": {"train": {"csv": {"path": "%s", "label_column": "target"}},
                           "validation_split": 0.2, "normalization": "standardize"},
                  "batch_size": 4, "epochs": %d, "seed": 7
                }""".formatted(name, table.toString().replace("\\", "/"), EPOCHS));
    }

    /** A job that runs for minutes unless stopped. */
    private JobSpec longJob(String name) {
        return ServiceFixture.csvJob(name, table.toString(), 1000, 1);
    }

    /** A fixture checkpointing after every epoch, over this test's data root, at most {@code capacity} jobs waiting. */
    private ServiceFixture fixture(int capacity) throws Exception {
        return new ServiceFixture(state, List.of(data), capacity, false, Duration.ZERO);
    }

    private static JobId id(String id) {
        return JobId.newBuilder().setId(id).build();
    }

    private static Job resume(JobServiceGrpc.JobServiceBlockingStub stub, String id) {
        return withDeadline(stub).resumeJob(id(id));
    }

    private static StatusRuntimeException refused(Status.Code code, Runnable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        return e;
    }

    /** SUCCEEDED with every epoch once, in its record and its metrics.jsonl, its checkpoint gone, the straight run's model. */
    private static void assertEndsAsTheStraightRun(ServiceFixture fx, JobServiceGrpc.JobServiceBlockingStub stub,
            String id, byte[] straight) throws Exception {
        Job done = finished(stub, id);
        assertEquals(JobState.SUCCEEDED, done.getState(), done.getReason());
        assertEquals(0, done.getCheckpointStep());
        assertTrue(done.getResumedAtMs() > done.getStartedAtMs(), done.toString());
        assertEquals(EPOCHS, done.getEpochsCount(), done.toString());
        for (int i = 0; i < EPOCHS; i++) {
            assertEquals(i + 1, done.getEpochs(i).getEpoch());
        }
        List<String> lines = Files.readAllLines(fx.store.jobDir(id).resolve(MetricsSinks.METRICS_FILE));
        assertEquals(EPOCHS, lines.size(), String.join("\n", lines));
        for (int i = 0; i < EPOCHS; i++) {
            assertEquals(i + 1, JSON.readTree(lines.get(i)).get("epoch").asInt());
        }
        assertFalse(Files.exists(fx.store.checkpointFile(id)), "a SUCCEEDED job keeps no checkpoint");
        assertArrayEquals(straight, model(stub, id), "the resumed run's weights are the straight run's");
    }

    /** The model of {@code job}, run to SUCCEEDED without interruption. */
    private static byte[] modelOf(JobServiceGrpc.JobServiceBlockingStub stub, JobSpec job) {
        String id = submit(stub, job);
        assertEquals(JobState.SUCCEEDED, finished(stub, id).getState());
        return model(stub, id);
    }

    /**
     * Submits {@code job}, cancels it once {@code epochs} epochs are done (held there until the
     * cancel is sent, so that a fast job cannot end first) and returns its id, CANCELLED.
     */
    private static String cancelledAfter(ServiceFixture fx, JobServiceGrpc.JobServiceBlockingStub stub, JobSpec job,
            int epochs) {
        fx.holdAtEpoch(job.getName(), epochs);
        String id = submit(stub, job);
        awaitEpochs(stub, id, epochs);
        withDeadline(stub).cancelJob(id(id));
        fx.releaseHold();
        assertEquals(JobState.CANCELLED, finished(stub, id).getState());
        return id;
    }

    @Test
    void aJobThatFailedForWantOfItsDataResumesOnRequestToTheWeightsOfAStraightRun() throws Exception {
        Path away = data.resolve("table.csv.away");
        try (ServiceFixture fx = fixture(50)) {
            JobServiceGrpc.JobServiceBlockingStub stub = fx.stub();
            String straightId = submit(stub, job("straight"));
            assertEquals(JobState.SUCCEEDED, finished(stub, straightId).getState());
            byte[] straight = model(stub, straightId);
            refused(Status.Code.FAILED_PRECONDITION, () -> resume(stub, straightId));

            fx.holdAtEpoch("data away", 3);
            String id = submit(stub, job("data away"));
            awaitEpochs(stub, id, 3);
            // the data's mount not up yet when the coordinator comes back
            fx.restart(() -> Files.move(table, away));
            JobServiceGrpc.JobServiceBlockingStub stub2 = fx.stub();
            Job failed = finished(stub2, id);
            assertEquals(JobState.FAILED, failed.getState(), failed.toString());
            assertTrue(failed.getReason().startsWith("the job no longer loads"), failed.getReason());
            // its checkpoint is where the restart stopped it, in its fourth epoch or later
            assertTrue(failed.getCheckpointStep() >= 3 * STEPS_PER_EPOCH
                    && failed.getCheckpointStep() < EPOCHS * STEPS_PER_EPOCH, failed.toString());
            assertTrue(Files.exists(fx.store.checkpointFile(id)), "a FAILED job keeps its checkpoint");

            // tried while the data are still away: it fails again, and its checkpoint is still kept
            Job queued = resume(stub2, id);
            assertEquals(JobState.QUEUED, queued.getState());
            Job again = finished(stub2, id);
            assertEquals(JobState.FAILED, again.getState(), again.toString());
            assertEquals(failed.getCheckpointStep(), again.getCheckpointStep());

            Files.move(away, table);
            queued = resume(stub2, id);
            assertEquals(JobState.QUEUED, queued.getState(), queued.toString());
            assertEquals(failed.getCheckpointStep(), queued.getStepsDone());
            assertEquals(failed.getCheckpointStep() / STEPS_PER_EPOCH, queued.getEpochsDone());
            assertEquals(queued.getEpochsDone(), queued.getEpochsCount());
            assertEquals(0, queued.getFinishedAtMs());
            assertEquals(0, queued.getCheckpointStep());
            long inEpoch = failed.getCheckpointStep() % STEPS_PER_EPOCH;
            assertEquals("queued again by a resume request; it resumes from its checkpoint " + (inEpoch == 0
                    ? "after epoch " + queued.getEpochsDone()
                    : "in epoch " + (queued.getEpochsDone() + 1) + ", after its step " + inEpoch), queued.getLastNote());
            assertEndsAsTheStraightRun(fx, stub2, id, straight);
        }
    }

    @Test
    void aCancelledJobResumesFromItsCheckpointWhenTheQueueHasRoom() throws Exception {
        try (ServiceFixture fx = fixture(1)) {
            JobServiceGrpc.JobServiceBlockingStub stub = fx.stub();
            byte[] straight = modelOf(stub, job("straight"));

            fx.holdAtEpoch("cancelled", 2);
            String id = submit(stub, job("cancelled"));
            awaitEpochs(stub, id, 2);
            refused(Status.Code.FAILED_PRECONDITION, () -> resume(stub, id)); // running
            withDeadline(stub).cancelJob(id(id));
            fx.releaseHold();
            Job cancelled = finished(stub, id);
            assertEquals(JobState.CANCELLED, cancelled.getState());
            // kept where the cancel stopped it, not at the last epoch's end
            assertTrue(cancelled.getCheckpointStep() >= 2 * STEPS_PER_EPOCH, cancelled.toString());
            assertEquals(cancelled.getStepsDone(), cancelled.getCheckpointStep(), cancelled.toString());

            // a full queue: a long job running, another waiting
            String running = submit(stub, longJob("long"));
            String waiting = submit(stub, longJob("waiting"));
            assertTrue(refused(Status.Code.RESOURCE_EXHAUSTED, () -> resume(stub, id)).getStatus().getDescription()
                    .contains("full"));
            // cancelled while queued, it never ran: nothing to resume from
            withDeadline(stub).cancelJob(id(waiting));
            StatusRuntimeException none = refused(Status.Code.FAILED_PRECONDITION, () -> resume(stub, waiting));
            assertTrue(none.getStatus().getDescription().contains("ended before its first step"),
                    none.getStatus().getDescription());
            withDeadline(stub).cancelJob(id(running));
            finished(stub, running);

            assertEquals(JobState.QUEUED, resume(stub, id).getState());
            assertEndsAsTheStraightRun(fx, stub, id, straight);
            refused(Status.Code.NOT_FOUND, () -> resume(stub, "job-999999"));
        }
    }

    /** A fine-tune's checkpoint holds every weight: its resumption does not need the init_from file again. */
    @Test
    void aFineTuneResumesWithItsInitFromFileGone() throws Exception {
        try (ServiceFixture fx = fixture(50)) {
            JobServiceGrpc.JobServiceBlockingStub stub = fx.stub();
            Path base = Files.write(data.resolve("base.safetensors"), modelOf(stub, job("base")));
            JobSpec.Builder fineTune = job("fine-tune").toBuilder();
            fineTune.getModelBuilder().setInitFrom(base.toString()).addFrozenLayers(0);
            byte[] straight = modelOf(stub, fineTune.build());

            String id = cancelledAfter(fx, stub, fineTune.build(), 2);
            Files.move(base, data.resolve("moved.safetensors"));
            assertEquals(JobState.QUEUED, resume(stub, id).getState());
            assertEndsAsTheStraightRun(fx, stub, id, straight);
            // its record keeps the job as submitted
            assertEquals(base.toString(), get(stub, id).getSpec().getModel().getInitFrom());
        }
    }

    /**
     * A cancelled job offers the weights of its last step; resumed on a checkpoint damaged on disk
     * since, it fails saying so, and still offers those weights.
     */
    @Test
    void aCancelledJobsModelOutlivesAResumptionThatFailsOnADamagedCheckpoint() throws Exception {
        try (ServiceFixture fx = fixture(50)) {
            JobServiceGrpc.JobServiceBlockingStub stub = fx.stub();
            String id = cancelledAfter(fx, stub, job("cancelled"), 2);
            Job cancelled = get(stub, id);
            assertTrue(cancelled.getModelAvailable(), cancelled.toString());
            byte[] atCancel = model(stub, id);

            Path checkpoint = fx.store.checkpointFile(id);
            byte[] bytes = Files.readAllBytes(checkpoint);
            bytes[bytes.length - 5] ^= 0x40; // one optimizer value, a little off: the file still parses
            Files.write(checkpoint, bytes);
            Job queued = resume(stub, id);
            assertEquals(JobState.QUEUED, queued.getState());
            assertTrue(queued.getModelAvailable(), "offered while it waits and runs again");
            Job failed = finished(stub, id);
            assertEquals(JobState.FAILED, failed.getState(), failed.toString());
            assertTrue(failed.getReason().contains("its bytes were changed after it was written"),
                    failed.getReason());
            assertTrue(failed.getModelAvailable(), failed.toString());
            assertArrayEquals(atCancel, model(stub, id));
        }
    }

    /** A resumption waiting in the queue whose checkpoint is then deleted fails; it does not start over. */
    @Test
    void aQueuedResumptionWhoseCheckpointIsDeletedFailsInsteadOfTrainingItsEpochsTwice() throws Exception {
        try (ServiceFixture fx = fixture(50)) {
            JobServiceGrpc.JobServiceBlockingStub stub = fx.stub();
            String id = cancelledAfter(fx, stub, job("resumed"), 2);
            String running = submit(stub, longJob("long"));
            assertEquals(JobState.QUEUED, resume(stub, id).getState());
            Files.delete(fx.store.checkpointFile(id));
            withDeadline(stub).cancelJob(id(running));
            Job failed = finished(stub, id);
            assertEquals(JobState.FAILED, failed.getState(), failed.toString());
            assertTrue(failed.getReason().contains("its checkpoint " + fx.store.checkpointFile(id) + " is gone"),
                    failed.getReason());
            assertTrue(failed.getEpochsCount() >= 2 && failed.getEpochsCount() < EPOCHS, failed.toString());
        }
    }

    @Test
    void aCancelAnsweredBeforeACrashEndsTheJobCancelledAtTheNextStartAndItResumes() throws Exception {
        try (ServiceFixture fx = fixture(50)) {
            JobServiceGrpc.JobServiceBlockingStub stub = fx.stub();
            fx.holdAtEpoch("cancel, then a crash", 2);
            String id = submit(stub, job("cancel, then a crash"));
            awaitEpochs(stub, id, 2);
            // what a crash right after the cancel's answer leaves: the record RUNNING, the cancel asked
            fx.restart(() -> {
                Path record = fx.store.jobDir(id).resolve(JobStore.RECORD);
                Job.Builder b = Job.newBuilder();
                com.google.protobuf.util.JsonFormat.parser().merge(Files.readString(record), b);
                Files.writeString(record, com.google.protobuf.util.JsonFormat.printer().preservingProtoFieldNames()
                        .print(b.setState(JobState.RUNNING).setCancelRequested(true).build()));
            });
            JobServiceGrpc.JobServiceBlockingStub stub2 = fx.stub();
            Job cancelled = get(stub2, id);
            assertEquals(JobState.CANCELLED, cancelled.getState(), cancelled.toString());
            assertEquals("cancelled while running (the coordinator stopped before the job did)", cancelled.getReason());
            assertTrue(cancelled.getCheckpointStep() >= 2 * STEPS_PER_EPOCH, cancelled.toString());
            // resumed, the cancel asked of its earlier run does not stop it
            resume(stub2, id);
            Job done = finished(stub2, id);
            assertEquals(JobState.SUCCEEDED, done.getState(), done.toString());
            assertFalse(done.getCancelRequested());
        }
    }

    @Test
    void aJobWhoseCheckpointsCouldNotBeWrittenIsRefusedSayingSo() throws Exception {
        // no checkpoint in the hour: the cancel's is the only one
        try (ServiceFixture fx = new ServiceFixture(state, List.of(data), 50, false, Duration.ofHours(1))) {
            JobServiceGrpc.JobServiceBlockingStub stub = fx.stub();
            fx.holdAtEpoch("unwritable", 1);
            String id = submit(stub, job("unwritable"));
            awaitEpochs(stub, id, 1);
            // a folder, not empty, where the checkpoint goes: its write fails, as on a full disk
            Files.writeString(Files.createDirectories(fx.store.checkpointFile(id)).resolve("in-the-way"), "x");
            withDeadline(stub).cancelJob(id(id));
            fx.releaseHold();
            Job cancelled = finished(stub, id);
            assertEquals(0, cancelled.getCheckpointStep(), cancelled.toString());
            assertTrue(cancelled.getLastNote().startsWith("no checkpoint "), cancelled.getLastNote());
            StatusRuntimeException e = refused(Status.Code.FAILED_PRECONDITION, () -> resume(stub, id));
            assertTrue(e.getStatus().getDescription().contains("cannot be resumed: it kept no checkpoint of its "
                    + cancelled.getStepsDone() + " step(s): none could be written, or the last could not be read (its "
                    + "last note: no checkpoint "), e.getStatus().getDescription());
        }
    }

    @Test
    void aKeptCheckpointDeletedByHandIsNoLongerOfferedAndDeletingTheJobRemovesIt() throws Exception {
        try (ServiceFixture fx = fixture(50)) {
            JobServiceGrpc.JobServiceBlockingStub stub = fx.stub();
            fx.holdAtEpoch("checkpoint gone", 1);
            String gone = submit(stub, job("checkpoint gone"));
            String kept = submit(stub, job("checkpoint kept"));
            for (String id : List.of(gone, kept)) {
                awaitEpochs(stub, id, 1);
                withDeadline(stub).cancelJob(id(id));
                fx.releaseHold();
                if (id.equals(gone)) {
                    // the next job runs an epoch (114 steps) before it would reach the hold
                    fx.holdAtEpoch("checkpoint kept", 1);
                }
                assertTrue(finished(stub, id).getCheckpointStep() >= STEPS_PER_EPOCH);
            }
            Files.delete(fx.store.checkpointFile(gone));
            StatusRuntimeException e = refused(Status.Code.FAILED_PRECONDITION, () -> resume(stub, gone));
            assertTrue(e.getStatus().getDescription().contains("its checkpoint file is gone"),
                    e.getStatus().getDescription());
            assertEquals(0, get(stub, gone).getCheckpointStep(), "the record no longer offers it");

            // a restart finds a kept checkpoint deleted while the coordinator was away
            fx.restart(() -> Files.delete(fx.store.checkpointFile(kept)));
            JobServiceGrpc.JobServiceBlockingStub stub2 = fx.stub();
            assertEquals(0, get(stub2, kept).getCheckpointStep());
            refused(Status.Code.FAILED_PRECONDITION, () -> resume(stub2, kept));

            fx.holdAtEpoch("deleted", 1);
            String again = submit(stub2, job("deleted"));
            awaitEpochs(stub2, again, 1);
            withDeadline(stub2).cancelJob(id(again));
            fx.releaseHold();
            assertTrue(finished(stub2, again).getCheckpointStep() >= STEPS_PER_EPOCH);
            withDeadline(stub2).deleteJob(id(again));
            assertFalse(Files.exists(fx.store.jobDir(again)), "deleting the job deletes its checkpoint with it");
            refused(Status.Code.NOT_FOUND, () -> resume(stub2, again));
        }
    }
}
