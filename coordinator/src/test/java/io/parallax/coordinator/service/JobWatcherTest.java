package io.parallax.coordinator.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.parallax.proto.v1.EpochMetrics;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobEvent;
import io.parallax.proto.v1.StepProgress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A watch stream sends only while the client is ready, thins out step events for a slow client, and unsubscribes on cancel. */
class JobWatcherTest {

    /** A client whose readiness the test sets; its events are kept. */
    static final class FakeClient extends ServerCallStreamObserver<JobEvent> {
        final List<JobEvent> received = new ArrayList<>();
        boolean ready;
        boolean completed;
        Throwable error;
        Runnable onReady;
        Runnable onCancel;

        void becomeReady() {
            ready = true;
            onReady.run();
        }

        @Override
        public boolean isReady() {
            return ready;
        }

        @Override
        public void setOnReadyHandler(Runnable r) {
            onReady = r;
        }

        @Override
        public void setOnCancelHandler(Runnable r) {
            onCancel = r;
        }

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public void setCompression(String compression) { }

        @Override
        public void disableAutoInboundFlowControl() { }

        @Override
        public void request(int count) { }

        @Override
        public void setMessageCompression(boolean enable) { }

        @Override
        public void onNext(JobEvent value) {
            if (!ready) {
                throw new AssertionError("sent while the client was not ready");
            }
            received.add(value);
        }

        @Override
        public void onError(Throwable t) {
            error = t;
        }

        @Override
        public void onCompleted() {
            completed = true;
        }
    }

    private static JobEvent step(long s) {
        return JobEvent.newBuilder().setJobId("job-000001").setStep(StepProgress.newBuilder().setStep(s)).build();
    }

    @Test
    void stepProgressGoesOutAtMostTenTimesASecondButAlwaysAtAnEpochsEnd() {
        FakeClient client = new FakeClient();
        client.ready = true;
        JobWatcher watcher = new JobWatcher(client, Runnable::run);
        for (int s = 1; s <= 50; s++) {
            watcher.accept(JobEvent.newBuilder().setJobId("job-000001").setStep(StepProgress.newBuilder().setStep(s)
                    .setStepInEpoch(s).setStepsInEpoch(50)).build());
        }
        // fifty steps within microseconds: the first, and the epoch's last
        assertEquals(List.of(1L, 50L), client.received.stream().map(e -> e.getStep().getStep()).toList());
    }

    @Test
    void holdsEventsUntilReadyThinsOutStepsAndNumbersWhatItSends() {
        FakeClient client = new FakeClient();
        JobWatcher watcher = new JobWatcher(client, Runnable::run, 0);
        watcher.accept(JobEvent.newBuilder().setSnapshot(Job.newBuilder().setId("job-000001")).build());
        int steps = JobWatcher.MAX_BACKLOG + 100;
        for (int s = 1; s <= steps; s++) {
            watcher.accept(step(s));
        }
        watcher.accept(JobEvent.newBuilder().setEpoch(EpochMetrics.newBuilder().setEpoch(1)).build());
        watcher.accept(JobEvent.newBuilder().setFinished(Job.newBuilder().setId("job-000001")).build());
        watcher.accept(step(steps + 1)); // after the end: ignored
        assertTrue(client.received.isEmpty(), "nothing is sent before the client is ready");

        client.becomeReady();
        List<JobEvent> got = client.received;
        assertTrue(got.get(0).hasSnapshot());
        assertTrue(got.get(got.size() - 2).hasEpoch(), "epoch metrics are never dropped");
        assertTrue(got.get(got.size() - 1).hasFinished());
        long stepsSent = got.stream().filter(JobEvent::hasStep).count();
        assertEquals(JobWatcher.MAX_BACKLOG - 1, stepsSent, "steps beyond the backlog are dropped");
        for (int i = 0; i < got.size(); i++) {
            assertEquals(i + 1, got.get(i).getSequence());
        }
        assertTrue(client.completed);
    }

    @Test
    void stopsWhenTheClientStopsReadingAndResumesOnReady() {
        FakeClient client = new FakeClient();
        client.ready = true;
        JobWatcher watcher = new JobWatcher(client, Runnable::run, 0);
        watcher.accept(step(1));
        client.ready = false;
        watcher.accept(step(2));
        watcher.accept(step(3));
        assertEquals(1, client.received.size());
        client.becomeReady();
        assertEquals(List.of(1L, 2L, 3L), client.received.stream().map(e -> e.getStep().getStep()).toList());
        assertFalse(client.completed);
    }

    @Test
    void aCancelledClientLeavesTheQueueAndAnAbortEndsTheStream() {
        FakeClient client = new FakeClient();
        JobWatcher watcher = new JobWatcher(client, Runnable::run, 0);
        AtomicInteger left = new AtomicInteger();
        watcher.attach(left::incrementAndGet);
        client.onCancel.run();
        assertEquals(1, left.get());
        // a cancel that comes before the watch is attached still leaves
        FakeClient early = new FakeClient();
        JobWatcher second = new JobWatcher(early, Runnable::run, 0);
        early.onCancel.run();
        second.attach(left::incrementAndGet);
        assertEquals(2, left.get());

        FakeClient aborted = new FakeClient();
        new JobWatcher(aborted, Runnable::run, 0).abort("the coordinator is shutting down");
        assertEquals(Status.Code.UNAVAILABLE, Status.fromThrowable(aborted.error).getCode());
    }
}
