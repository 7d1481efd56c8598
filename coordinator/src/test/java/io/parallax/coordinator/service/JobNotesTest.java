package io.parallax.coordinator.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.coordinator.JobRunner;
import io.parallax.coordinator.LocalCluster;
import io.parallax.engine.backend.Backends;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobEvent;
import io.parallax.proto.v1.JobState;
import io.parallax.worker.job.DataRoots;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the coordinator notices about a running job reaches its watchers, not only its log. */
class JobNotesTest {

    @TempDir
    Path state;

    /** What a test does with the queue and its store. */
    private interface QueueTest {
        void run(JobQueue queue, JobStore store) throws Exception;
    }

    /**
     * Runs {@code test} on a queue over a one-worker in-process cluster and a store in
     * {@link #state}, waiting {@code workerWait} for the workers a job asks for; shuts all down.
     */
    private void withQueue(Duration workerWait, QueueTest test) throws Exception {
        try (LocalCluster cluster = LocalCluster.start(1, Backends.cpu(), List.of(ServiceFixture.EXAMPLES));
             JobStore store = JobStore.open(state)) {
            TrainingCluster training = new TrainingCluster(cluster.system(), cluster.live(), cluster.exchange(),
                    new JobRunner.Settings(Duration.ofMinutes(1), workerWait, "in-process", 0));
            JobQueue queue = JobQueue.start(store, training, DataRoots.of(List.of(ServiceFixture.EXAMPLES)), 5,
                    JobListenerFactory.jsonLines());
            try {
                test.run(queue, store);
            } finally {
                queue.shutdown(Duration.ofSeconds(10));
            }
        }
    }

    @Test
    void aJobWithFewerWorkersThanItAskedForTellsItsWatchers() throws Exception {
        // a 1 s wait for the second worker, which never comes
        withQueue(Duration.ofSeconds(1), (queue, store) -> {
            Job job = queue.submit(ServiceFixture.smallJob("two wanted", 1, 64).toBuilder().setWorkers(2).build());
            List<JobEvent> events = new CopyOnWriteArrayList<>();
            CompletableFuture<Job> finished = new CompletableFuture<>();
            queue.watch(job.getId(), new JobQueue.EventSink() {
                @Override
                public void accept(JobEvent event) {
                    events.add(event);
                    if (event.hasFinished()) {
                        finished.complete(event.getFinished());
                    }
                }

                @Override
                public void abort(String reason) {
                    finished.completeExceptionally(new IllegalStateException(reason));
                }
            });
            Job done = finished.get(2, TimeUnit.MINUTES);
            assertEquals(JobState.SUCCEEDED, done.getState());
            List<String> notes = events.stream().filter(JobEvent::hasNote).map(JobEvent::getNote).toList();
            assertEquals(List.of("waiting up to 1 s for 2 worker(s); 1 live",
                    "only 1 of 2 workers joined; training with 1"), notes);
            // the record keeps the latest, for status and for a watch that starts later
            assertEquals("only 1 of 2 workers joined; training with 1", done.getLastNote());
            // before the first epoch's metrics
            int note = events.indexOf(events.stream().filter(JobEvent::hasNote).findFirst().orElseThrow());
            assertTrue(note < events.indexOf(events.stream().filter(JobEvent::hasEpoch).findFirst().orElseThrow()));
        });
    }

    @Test
    void aJobOfManyShortEpochsDoesNotRewriteItsRecordEveryEpoch() throws Exception {
        withQueue(Duration.ofSeconds(30), (queue, store) -> {
            // one step per epoch: 40 epochs in a second or two
            Job job = queue.submit(ServiceFixture.smallJob("many epochs", 40, 512));
            long before = store.saves();
            Job done = queue.whenFinished(job.getId()).get(2, TimeUnit.MINUTES);
            assertEquals(JobState.SUCCEEDED, done.getState());
            long saves = store.saves() - before;
            // running, the first epoch, one more per 5 s, the end: not one per epoch
            assertTrue(saves >= 2 && saves <= 8, saves + " writes for 40 epochs");
            // and the record on disk ends whole
            Job.Builder onDisk = Job.newBuilder();
            com.google.protobuf.util.JsonFormat.parser().merge(
                    java.nio.file.Files.readString(state.resolve("jobs").resolve(job.getId()).resolve(JobStore.RECORD)),
                    onDisk);
            assertEquals(40, onDisk.getEpochsCount());
            assertEquals(JobState.SUCCEEDED, onDisk.getState());
        });
    }
}
