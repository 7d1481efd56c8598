package io.parallax.coordinator.service;

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

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.parallax.engine.io.Checkpoint;
import io.parallax.engine.io.SafeTensorsReader;
import io.parallax.engine.io.TensorInfo;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobEvent;
import io.parallax.proto.v1.JobId;
import io.parallax.proto.v1.JobServiceGrpc;
import io.parallax.proto.v1.JobState;
import io.parallax.proto.v1.ListJobsRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cancelling queued and running jobs; a coordinator restart keeps what finished and fails what did not. */
class CancelAndRestartTest {

    @TempDir
    Path state;

    private static JobId id(String id) {
        return JobId.newBuilder().setId(id).build();
    }

    /** Blocks until the job has taken {@code steps} steps; returns the stream, still open. */
    private static Iterator<JobEvent> awaitSteps(JobServiceGrpc.JobServiceBlockingStub stub, String id, long steps) {
        Iterator<JobEvent> it = withDeadline(stub).watchJob(id(id));
        while (it.hasNext()) {
            JobEvent e = it.next();
            if (e.hasStep() && e.getStep().getStep() >= steps) {
                return it;
            }
            assertFalse(e.hasFinished(), "the job ended early: " + e);
        }
        throw new AssertionError("the watch ended before step " + steps);
    }

    @Test
    void queuedAndRunningJobsCancel() throws Exception {
        try (ServiceFixture fx = new ServiceFixture(state)) {
            JobServiceGrpc.JobServiceBlockingStub stub = fx.stub();
            String running = submit(stub, ServiceFixture.longJob("long"));
            String queued = submit(stub, ServiceFixture.smallJob("waits", 1, 64));
            awaitSteps(stub, running, 3);

            // a watcher arriving mid-run: a snapshot of the running job first
            Iterator<JobEvent> late = withDeadline(stub).watchJob(id(running));
            Job snapshot = late.next().getSnapshot();
            assertEquals(JobState.RUNNING, snapshot.getState());
            assertTrue(snapshot.getStepsDone() >= 3, snapshot.toString());
            assertEquals(0, get(stub, queued).getQueuePosition());

            // the queued one leaves the queue at once
            Job q = withDeadline(stub).cancelJob(id(queued));
            assertEquals(JobState.CANCELLED, q.getState());
            List<JobEvent> qEvents = watchAll(stub, queued);
            assertEquals(JobState.CANCELLED, qEvents.get(qEvents.size() - 1).getFinished().getState());
            assertEquals(0, q.getStartedAtMs(), "it never ran");

            // the running one stops after its step
            Job r = withDeadline(stub).cancelJob(id(running));
            assertEquals(JobState.RUNNING, r.getState(), "still finishing its step");
            JobEvent last = null;
            while (late.hasNext()) {
                last = late.next();
            }
            Job done = last.getFinished();
            assertEquals(JobState.CANCELLED, done.getState());
            assertTrue(done.getReason().startsWith("cancelled while running"), done.getReason());
            assertTrue(done.getReason().endsWith("; its model holds the weights of its last step"), done.getReason());
            assertTrue(done.getStepsDone() < done.getStepsTotal());
            JobServiceTest.assertCode(Status.Code.FAILED_PRECONDITION, () -> withDeadline(stub).cancelJob(id(running)));
            // what it trained is to be had: the weights its checkpoint kept for a resume
            assertTrue(done.getModelAvailable());
            assertEquals(done.getStepsDone(), done.getCheckpointStep());
            assertSameWeights(fx.store.checkpointFile(running), Files.write(state.resolve("cancelled.safetensors"),
                    model(stub, running)));
            // one cancelled while queued has none
            assertFalse(q.getModelAvailable());
            JobServiceTest.assertCode(Status.Code.FAILED_PRECONDITION,
                    () -> withDeadline(stub).getModel(id(queued)).forEachRemaining(c -> { }));

            // the workers were released: the next job runs
            String next = submit(stub, ServiceFixture.smallJob("after", 1, 64));
            List<JobEvent> events = watchAll(stub, next);
            assertEquals(JobState.SUCCEEDED, events.get(events.size() - 1).getFinished().getState());
        }
    }

    /** Every tensor of the model file is in the checkpoint with the same values; only its optimizer's are not in the model. */
    private static void assertSameWeights(Path checkpoint, Path model) throws Exception {
        try (SafeTensorsReader c = SafeTensorsReader.open(checkpoint); SafeTensorsReader m = SafeTensorsReader.open(model)) {
            List<String> modelNames = m.tensors().stream().map(TensorInfo::name).sorted().toList();
            assertEquals(c.tensors().stream().map(TensorInfo::name).filter(n -> !n.startsWith(Checkpoint.OPTIMIZER_PREFIX))
                    .sorted().toList(), modelNames);
            for (String name : modelNames) {
                if (m.info(name).dtype().readableAsFloat()) {
                    assertArrayEquals(c.readFloats(name), m.readFloats(name), name);
                } else {
                    assertArrayEquals(c.readLongs(name), m.readLongs(name), name);
                }
            }
        }
    }

    @Test
    void aRestartKeepsFinishedJobsRunsQueuedOnesAndFailsTheOneThatRan() throws Exception {
        try (ServiceFixture fx = new ServiceFixture(state)) {
            JobServiceGrpc.JobServiceBlockingStub stub = fx.stub();
            String finished = submit(stub, ServiceFixture.smallJob("finished", 1, 64));
            List<JobEvent> events = watchAll(stub, finished);
            Job before = events.get(events.size() - 1).getFinished();
            assertEquals(JobState.SUCCEEDED, before.getState());
            byte[] modelBefore = model(stub, finished);

            String running = submit(stub, ServiceFixture.longJob("interrupted"));
            String queued = submit(stub, ServiceFixture.smallJob("never ran", 1, 64));
            awaitSteps(stub, running, 2);
            // what a crash would leave: the record on disk says RUNNING
            String onDisk = Files.readString(fx.store.jobDir(running).resolve(JobStore.RECORD));
            assertTrue(onDisk.contains("\"state\": \"RUNNING\""), onDisk);
            // past the first epoch (455 steps), whose record is written at once; the next write
            // would come 5 s later. Its last write, as a crash an hour ago would have left it:
            awaitSteps(stub, running, 460);
            Path record = fx.store.jobDir(running).resolve(JobStore.RECORD);
            String crashed = Files.readString(record);
            assertTrue(crashed.contains("\"state\": \"RUNNING\""), crashed);
            long lastWrite = System.currentTimeMillis() - 3_600_000;

            // a clean stop checkpoints the job where it stopped; a crash would have left the
            // record as it was, and no checkpoint (this job's first one would come after 60 s)
            fx.restart(() -> {
                Files.writeString(record, crashed);
                Files.setLastModifiedTime(record, java.nio.file.attribute.FileTime.fromMillis(lastWrite));
                Files.delete(fx.store.checkpointFile(running));
            });
            stub = fx.stub();

            assertEquals(before, get(stub, finished));
            assertArrayEquals(modelBefore, model(stub, finished));
            Job interrupted = get(stub, running);
            assertEquals(JobState.FAILED, interrupted.getState());
            assertEquals(JobStore.RESTARTED, interrupted.getReason());
            // a resume says why there is nothing to go on from: no checkpoint was due yet
            StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
                    () -> withDeadline(fx.stub()).resumeJob(id(running)));
            assertTrue(refused.getStatus().getDescription().contains("its coordinator stopped after "
                    + interrupted.getStepsDone() + " step(s), before the job's first checkpoint"),
                    refused.getStatus().getDescription());
            // it ended when its coordinator stopped, as near as the record knows: not at the restart
            assertEquals(lastWrite, interrupted.getFinishedAtMs(), 1000);
            assertEquals(-1, interrupted.getQueuePosition());
            JobServiceTest.assertCode(Status.Code.FAILED_PRECONDITION,
                    () -> withDeadline(fx.stub()).getModel(id(running)).forEachRemaining(c -> { }));
            // the job that had not started is not lost: the new coordinator runs it
            List<JobEvent> queuedEvents = watchAll(stub, queued);
            Job ran = queuedEvents.get(queuedEvents.size() - 1).getFinished();
            assertEquals(JobState.SUCCEEDED, ran.getState(), ran.getReason());
            assertTrue(model(stub, queued).length > 0);
            assertEquals(3, withDeadline(stub).listJobs(ListJobsRequest.getDefaultInstance()).getJobsCount());

            // ids go on where they stopped, and the new coordinator runs jobs
            String fresh = submit(stub, ServiceFixture.smallJob("fresh", 1, 64));
            assertTrue(fresh.compareTo(queued) > 0, fresh + " after " + queued);
            List<JobEvent> freshEvents = watchAll(stub, fresh);
            assertEquals(JobState.SUCCEEDED, freshEvents.get(freshEvents.size() - 1).getFinished().getState());
        }
    }

    @Test
    void aJobWhoseRecordCannotBeReadStillGivesItsModelAndOneWithoutAModelIsRefused() throws Exception {
        try (ServiceFixture fx = new ServiceFixture(state)) {
            JobServiceGrpc.JobServiceBlockingStub stub = fx.stub();
            String withModel = submit(stub, ServiceFixture.smallJob("kept model", 1, 64));
            String withoutModel = submit(stub, ServiceFixture.smallJob("lost model", 1, 64));
            watchAll(stub, withModel);
            watchAll(stub, withoutModel);
            byte[] modelBefore = model(stub, withModel);

            // both records cut in half (a disk error); the second job's model is gone too
            fx.restart(() -> {
                for (String id : List.of(withModel, withoutModel)) {
                    Path record = fx.store.jobDir(id).resolve(JobStore.RECORD);
                    String text = Files.readString(record);
                    Files.writeString(record, text.substring(0, text.length() / 2));
                }
                Files.delete(fx.store.modelFile(withoutModel));
            });
            stub = fx.stub();

            Job unreadable = get(stub, withModel);
            assertEquals(JobState.FAILED, unreadable.getState());
            assertEquals("(record unreadable)", unreadable.getName());
            // what status offers, GetModel gives
            assertTrue(unreadable.getModelAvailable());
            assertArrayEquals(modelBefore, model(stub, withModel));

            assertFalse(get(stub, withoutModel).getModelAvailable());
            StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
                    () -> withDeadline(fx.stub()).getModel(id(withoutModel)).forEachRemaining(c -> { }));
            assertEquals(Status.Code.FAILED_PRECONDITION, refused.getStatus().getCode());
            assertEquals("job " + withoutModel + " has no model: it is FAILED; only a SUCCEEDED job has one, or a job "
                    + "cancelled while it ran",
                    refused.getStatus().getDescription());
        }
    }

    @Test
    void aCleanStopCheckpointsTheRunningJobWhereItStoppedAndKeepsTheQueuedOnes() throws Exception {
        try (ServiceFixture fx = new ServiceFixture(state)) {
            JobServiceGrpc.JobServiceBlockingStub stub = fx.stub();
            String running = submit(stub, ServiceFixture.longJob("stopped"));
            String queued = submit(stub, ServiceFixture.smallJob("never ran", 1, 64));
            // past the first epoch's end (455 steps), long before its first checkpoint would be due (60 s)
            awaitSteps(stub, running, 460);

            // SIGTERM's path: the queue shuts down, the job stops at a step's end; its record as the stop left it
            Job[] left = new Job[1];
            fx.restart(() -> {
                Job.Builder b = Job.newBuilder();
                com.google.protobuf.util.JsonFormat.parser().merge(Files.readString(fx.store.jobDir(running)
                        .resolve(JobStore.RECORD)), b);
                left[0] = b.build();
            });
            stub = fx.stub();

            // no step lost: it goes on, first, from the step the stop found it at
            Job stopped = left[0];
            assertEquals(JobState.QUEUED, stopped.getState(), stopped.toString());
            assertTrue(stopped.getStepsDone() >= 460, stopped.toString());
            long inEpoch = stopped.getStepsDone() - 455L * stopped.getEpochsDone();
            assertTrue(inEpoch >= 0 && inEpoch < 455, stopped.toString());
            assertEquals(stopped.getEpochsDone(), stopped.getEpochsCount(), "every epoch done is in the record");
            assertTrue(stopped.getLastNote().startsWith("the coordinator was stopped while the job ran, after epoch "
                    + stopped.getEpochsDone() + "; it resumes from its checkpoint "), stopped.getLastNote());
            Job resumed = get(stub, running);
            assertTrue(resumed.getState() == JobState.QUEUED || resumed.getState() == JobState.RUNNING,
                    resumed.toString());
            withDeadline(stub).cancelJob(id(running));
            List<JobEvent> queuedEvents = watchAll(stub, queued);
            assertEquals(JobState.SUCCEEDED, queuedEvents.get(queuedEvents.size() - 1).getFinished().getState());
        }
    }
}
