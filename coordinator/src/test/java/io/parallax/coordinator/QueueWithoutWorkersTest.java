package io.parallax.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.coordinator.service.JobListenerFactory;
import io.parallax.coordinator.service.JobQueue;
import io.parallax.coordinator.service.JobStore;
import io.parallax.coordinator.service.TrainingCluster;
import io.parallax.engine.backend.Backends;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobState;
import io.parallax.worker.job.DataRoots;
import io.parallax.worker.job.JobFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * While no worker is live, a job service's queue holds its jobs instead of failing one after
 * another (each after the worker wait); they run once a worker joins. A queue that does not hold
 * ({@code coordinator --job}) fails its job after the wait, as before.
 */
class QueueWithoutWorkersTest {

    private static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();
    private static final Duration WORKER_WAIT = Duration.ofSeconds(1);

    @TempDir
    Path state;

    private static io.parallax.proto.v1.JobSpec job(String name) {
        return JobFiles.parse("""
                {
                  "name": "%s",
                  "model": {"layers": [{"linear": {"out_features": 2}}]},
                  "loss": "cross_entropy",
                  "optimizer": {"name": "sgd", "lr": 0.1},
                  "data": {"train": {"csv": {"path": "data/breast_cancer.csv", "label_column": "target"}},
                           "validation_split": 0.2, "normalization": "standardize"},
                  "batch_size": 64, "epochs": 1
                }""".formatted(name));
    }

    /** What a test does with its queue, the one-worker cluster under it, and the live listing it sets. */
    private interface QueueTest {
        void run(JobQueue queue, LocalCluster cluster, WorkerRegistry.LiveWorkers live) throws Exception;
    }

    /**
     * Runs {@code test} on a queue ({@code hold}ing jobs without workers or not) over a one-worker
     * cluster whose live listing the test sets: empty until it says otherwise, as after every
     * worker went away; shuts all down.
     */
    private void withQueue(boolean hold, Duration checkpointEvery, QueueTest test) throws Exception {
        try (LocalCluster cluster = LocalCluster.start(1, Backends.cpu(), List.of(EXAMPLES));
             JobStore store = JobStore.open(state)) {
            WorkerRegistry.LiveWorkers live = new WorkerRegistry.LiveWorkers();
            TrainingCluster training = new TrainingCluster(cluster.system(), live, cluster.exchange(),
                    new JobRunner.Settings(Duration.ofMinutes(1), WORKER_WAIT, "in-process", 0));
            JobQueue queue = JobQueue.start(store, training, DataRoots.of(List.of(EXAMPLES)), 5,
                    JobListenerFactory.jsonLines(), checkpointEvery, hold);
            try {
                test.run(queue, cluster, live);
            } finally {
                queue.shutdown(Duration.ofSeconds(10));
            }
        }
    }

    @Test
    void jobsWaitInTheQueueUntilAWorkerJoins() throws Exception {
        withQueue(true, JobQueue.DEFAULT_CHECKPOINT_INTERVAL, (queue, cluster, live) -> {
            String first = queue.submit(job("first")).getId();
            String second = queue.submit(job("second")).getId();
            // three worker waits: without the hold, both would have failed by now
            Thread.sleep(3 * WORKER_WAIT.toMillis());
            Job waiting = queue.get(first).orElseThrow();
            assertEquals(JobState.QUEUED, waiting.getState(), waiting.toString());
            assertEquals("waiting for a worker to join: none is live; the job starts when one does",
                    waiting.getLastNote());
            long toldAgo = System.currentTimeMillis() - waiting.getLastNoteAtMs();
            assertTrue(toldAgo >= 2 * WORKER_WAIT.toMillis() && toldAgo < 60_000, "told " + toldAgo + " ms ago");
            assertEquals(JobState.QUEUED, queue.get(second).orElseThrow().getState());

            live.set(cluster.live().get()); // a worker joins
            assertEquals(JobState.SUCCEEDED, queue.whenFinished(first).get(60, TimeUnit.SECONDS).getState());
            assertEquals(JobState.SUCCEEDED, queue.whenFinished(second).get(60, TimeUnit.SECONDS).getState());
        });
    }

    @Test
    void aJobQueuedToResumeStillSaysSoWhileItWaitsForAWorker() throws Exception {
        withQueue(true, Duration.ZERO, (queue, cluster, live) -> {
            live.set(cluster.live().get());
            String id = queue.submit(job("resumed").toBuilder().setEpochs(50).build()).getId();
            java.util.concurrent.CountDownLatch stepped = new java.util.concurrent.CountDownLatch(1);
            queue.watch(id, new JobQueue.EventSink() {
                @Override
                public void accept(io.parallax.proto.v1.JobEvent event) {
                    if (event.hasStep()) {
                        stepped.countDown();
                    }
                }

                @Override
                public void abort(String reason) {}
            });
            assertTrue(stepped.await(60, TimeUnit.SECONDS));
            queue.cancel(id);
            assertTrue(queue.whenFinished(id).get(60, TimeUnit.SECONDS).getCheckpointStep() > 0);
            live.set(List.of()); // every worker gone
            assertEquals(JobQueue.ResumeOutcome.QUEUED, queue.resume(id).outcome());
            Thread.sleep(1_000);
            String note = queue.get(id).orElseThrow().getLastNote();
            assertTrue(note.startsWith("waiting for a worker to join: none is live; the job starts when one does "
                    + "(queued again by a resume request; it resumes from its checkpoint "), note);
        });
    }

    @Test
    void aQueueThatDoesNotHoldFailsTheJobAfterTheWorkerWait() throws Exception {
        withQueue(false, JobQueue.DEFAULT_CHECKPOINT_INTERVAL, (queue, cluster, live) -> {
            String id = queue.submit(job("alone")).getId();
            Job failed = queue.whenFinished(id).get(60, TimeUnit.SECONDS);
            assertEquals(JobState.FAILED, failed.getState());
            assertTrue(failed.getReason().startsWith("no worker joined within"), failed.getReason());
        });
    }
}
