package io.parallax.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorRef;
import io.parallax.engine.backend.Backends;
import io.parallax.proto.v1.JobSpec;
import io.parallax.worker.WorkerActor;
import io.parallax.worker.job.DataRoots;
import io.parallax.worker.job.JobFiles;
import io.parallax.worker.job.JobPlan;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * When every worker is lost at once — what a coordinator stalled for a few seconds (a long GC
 * pause, a stopped process) sees: the workers' side of the cluster downs itself and rejoins
 * seconds later — the job waits for workers to join, has them prepare it, and redoes the step
 * from the same weights, instead of failing with no workers left. Here the workers' listing goes
 * empty for half a second after step 5 and comes back with the same workers.
 */
class AllWorkersLostTest {

    private static final JobSpec JOB = MembershipFixtures.breastCancerJob("all-lost", "{\"name\": \"adam\", \"lr\": 0.01}", true,
            5);

    @Test
    void theJobWaitsForWorkersToJoinAndEndsWithTheWeightsOfARunWithoutTheLoss() throws Exception {
        JobRunner.Result undisturbed;
        try (LocalCluster cluster = LocalCluster.start(2, Backends.cpu(), List.of(SingleNodeDeterminismTest.EXAMPLES))) {
            undisturbed = cluster.run(JOB, null);
        }
        List<String> events = new CopyOnWriteArrayList<>();
        JobRunner.Result disturbed = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (LocalCluster cluster = LocalCluster.start(2, Backends.cpu(),
                    List.of(SingleNodeDeterminismTest.EXAMPLES))) {
                return cluster.run(JOB, new JobListener() {
                    @Override
                    public void onStep(StepReport report) {
                        if (report.step() == 5) {
                            List<ActorRef<WorkerActor.Command>> workers = cluster.live().get();
                            cluster.live().set(List.of());
                            inHalfASecond(() -> cluster.live().set(workers));
                        }
                    }

                    @Override
                    public void onEvent(String message) {
                        events.add(message);
                    }
                });
            }
        });
        assertTrue(events.contains("step 5: no workers left; waiting up to 60 s for workers to join"),
                events.toString());
        assertTrue(events.contains("step 5: going on with [worker-00, worker-01]"), events.toString());
        assertEquals(undisturbed.steps(), disturbed.steps());
        assertEquals(1, disturbed.redoneSteps());
        // the step is redone from the same weights on the same partition: nothing of the math changes
        assertArrayEquals(undisturbed.model().parameters().toArray(), disturbed.model().parameters().toArray());
        assertEquals(undisturbed.epochs().get(1).valAccuracy(), disturbed.epochs().get(1).valAccuracy());
    }

    /**
     * Fewer workers come back than the job asked for: it goes on with those as soon as the
     * membership has settled, and takes on the others when they join, instead of standing still
     * for the whole worker wait (60 s here) waiting for its full count.
     */
    @Test
    void theJobGoesOnWithTheWorkersThatCameBackAndTakesOnTheOthersLater() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        long start = System.nanoTime();
        JobRunner.Result result = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (LocalCluster cluster = LocalCluster.start(2, Backends.cpu(),
                    List.of(SingleNodeDeterminismTest.EXAMPLES))) {
                List<List<ActorRef<WorkerActor.Command>>> workers = new CopyOnWriteArrayList<>();
                return cluster.run(JOB, new JobListener() {
                    @Override
                    public void onStep(StepReport report) {
                        if (report.step() == 5) {
                            List<ActorRef<WorkerActor.Command>> both = cluster.live().get();
                            workers.add(both);
                            cluster.live().set(List.of());
                            inHalfASecond(() -> cluster.live().set(both.subList(0, 1)));
                        }
                    }

                    @Override
                    public void onEvent(String message) {
                        events.add(message);
                        if (message.equals("step 5: going on with [worker-00]")) {
                            cluster.live().set(workers.get(0)); // the second one is back now
                        }
                    }
                });
            }
        });
        double seconds = (System.nanoTime() - start) / 1e9;
        assertTrue(events.contains("only 1 of 2 workers are back; training with 1 (the others are taken on as they "
                + "join)"), events.toString());
        assertTrue(events.stream().anyMatch(e -> e.endsWith("taking on [worker-01]; 2 worker(s)")), events.toString());
        assertEquals(2, result.epochs().get(1).workers());
        assertTrue(seconds < 30, "went on in " + seconds + " s, not after the 60 s worker wait");
    }

    @Test
    void aJobCancelledWhileItWaitsForWorkersEndsCancelledNotFailed() throws Exception {
        try (LocalCluster cluster = LocalCluster.start(2, Backends.cpu(), List.of(SingleNodeDeterminismTest.EXAMPLES))) {
            JobPlan plan = JobPlan.load(JOB, DataRoots.of(List.of(SingleNodeDeterminismTest.EXAMPLES))).withWorkers(2);
            JobRunner[] runner = new JobRunner[1];
            runner[0] = new JobRunner("cancelled-while-waiting", JobFiles.toJson(plan.spec()), plan, cluster.system(),
                    cluster.live(), cluster.exchange(), cluster.runnerSettings(), new JobListener() {
                        @Override
                        public void onStep(StepReport report) {
                            if (report.step() == 5) {
                                cluster.live().set(List.of()); // and they never come back
                            }
                        }

                        @Override
                        public void onEvent(String message) {
                            if (message.contains("no workers left; waiting")) {
                                runner[0].cancel();
                            }
                        }
                    });
            JobCancelledException e = assertTimeoutPreemptively(Duration.ofSeconds(30),
                    () -> assertThrows(JobCancelledException.class, runner[0]::run));
            assertEquals("cancelled after 5 step(s)", e.getMessage());
        }
    }

    /** Runs {@code action} on a thread of its own half a second from now: workers rejoining. */
    private static void inHalfASecond(Runnable action) {
        Thread later = new Thread(() -> {
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            action.run();
        });
        later.setDaemon(true);
        later.start();
    }
}
