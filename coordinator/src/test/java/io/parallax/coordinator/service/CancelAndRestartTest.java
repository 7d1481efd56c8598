package io.parallax.coordinator.service;

import static io.parallax.coordinator.service.ServiceFixture.get;
import static io.parallax.coordinator.service.ServiceFixture.model;
import static io.parallax.coordinator.service.ServiceFixture.submit;
import static io.parallax.coordinator.service.ServiceFixture.watchAll;
import static io.parallax.coordinator.service.ServiceFixture.withDeadline;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
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
            assertFalse(done.getModelAvailable());
            assertTrue(done.getStepsDone() < done.getStepsTotal());
            JobServiceTest.assertCode(Status.Code.FAILED_PRECONDITION, () -> withDeadline(stub).cancelJob(id(running)));
            JobServiceTest.assertCode(Status.Code.FAILED_PRECONDITION,
                    () -> withDeadline(stub).getModel(id(running)).forEachRemaining(c -> { }));

            // the workers were released: the next job runs
            String next = submit(stub, ServiceFixture.smallJob("after", 1, 64));
            List<JobEvent> events = watchAll(stub, next);
            assertEquals(JobState.SUCCEEDED, events.get(events.size() - 1).getFinished().getState());
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

            // a clean stop ends the job itself; a crash would have left the record as it was
            fx.restart(() -> {
                Files.writeString(record, crashed);
                Files.setLastModifiedTime(record, java.nio.file.attribute.FileTime.fromMillis(lastWrite));
            });
            stub = fx.stub();

            assertEquals(before, get(stub, finished));
            assertArrayEquals(modelBefore, model(stub, finished));
            Job interrupted = get(stub, running);
            assertEquals(JobState.FAILED, interrupted.getState());
            assertEquals(JobStore.RESTARTED, interrupted.getReason());
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
    void aCleanStopEndsTheRunningJobWithEveryEpochItDidAndKeepsTheQueuedOnes() throws Exception {
        try (ServiceFixture fx = new ServiceFixture(state)) {
            JobServiceGrpc.JobServiceBlockingStub stub = fx.stub();
            String running = submit(stub, ServiceFixture.longJob("stopped"));
            String queued = submit(stub, ServiceFixture.smallJob("never ran", 1, 64));
            // past the first epoch's end (455 steps): its record was written then, the next write
            // would come 5 s later
            awaitSteps(stub, running, 460);
            long stoppedAt = System.currentTimeMillis();

            fx.restart(); // SIGTERM's path: the queue shuts down, the job stops at a step's end
            stub = fx.stub();

            Job stopped = get(stub, running);
            assertEquals(JobState.FAILED, stopped.getState());
            assertEquals(JobStore.STOPPED, stopped.getReason());
            assertTrue(stopped.getFinishedAtMs() >= stoppedAt, "ended when it was stopped, not at its last write");
            assertTrue(stopped.getEpochsDone() >= 1);
            assertEquals(stopped.getEpochsDone(), stopped.getEpochsCount(), "every epoch done is in the record");
            List<JobEvent> queuedEvents = watchAll(stub, queued);
            assertEquals(JobState.SUCCEEDED, queuedEvents.get(queuedEvents.size() - 1).getFinished().getState());
        }
    }

    @Test
    void aFullQueueRefusesWithResourceExhausted() throws Exception {
        try (ServiceFixture fx = new ServiceFixture(state, List.of(ServiceFixture.EXAMPLES), 2)) {
            JobServiceGrpc.JobServiceBlockingStub stub = fx.stub();
            String running = submit(stub, ServiceFixture.longJob("running"));
            awaitSteps(stub, running, 1);
            String first = submit(stub, ServiceFixture.smallJob("first", 1, 64));
            String second = submit(stub, ServiceFixture.smallJob("second", 1, 64));
            assertEquals(1, get(stub, second).getQueuePosition());
            JobServiceTest.assertCode(Status.Code.RESOURCE_EXHAUSTED,
                    () -> submit(stub, ServiceFixture.smallJob("third", 1, 64)));
            // room again once one leaves the queue
            withDeadline(stub).cancelJob(id(first));
            assertEquals(0, get(stub, second).getQueuePosition());
            String third = submit(stub, ServiceFixture.smallJob("third", 1, 64));
            assertEquals(1, get(stub, third).getQueuePosition());
        }
    }

    @Test
    void aSecondCoordinatorCannotShareTheStateDirectory() throws Exception {
        try (JobStore first = JobStore.open(state)) {
            assertEquals(state.toAbsolutePath().normalize(), first.root());
            java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                    () -> JobStore.open(state));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        }
        JobStore.open(state).close();
    }
}
