package io.parallax.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A worker that joins while a job runs — one back after it left, say — is asked to prepare the
 * job and, once it has, works on it again from the next step, up to the job's worker count.
 * Here worker-00 leaves the listing after step 3 and is back after step 6.
 */
class WorkerRejoinsTest {

    private static final JobSpec JOB = MembershipFixtures.breastCancerJob("rejoins", "{\"name\": \"sgd\", \"lr\": 0.01}", false,
            3);

    @Test
    void anIdleWorkerTakesThePlaceOfOneThatFailed() throws Exception {
        // three workers, a job for two: worker-02 idles until worker-00's gradients stop arriving
        List<String> events = new CopyOnWriteArrayList<>();
        LocalCluster.PlaneWrapper cutFirst = (worker, plane) ->
                worker.equals("worker-00") ? new LostGradientTest.CutAfter(plane, 3, false, new AtomicInteger()) : plane;
        try (LocalCluster cluster = LocalCluster.start(3, Backends.cpu(), List.of(SingleNodeDeterminismTest.EXAMPLES),
                cutFirst)) {
            JobPlan plan = JobPlan.load(JOB, DataRoots.of(List.of(SingleNodeDeterminismTest.EXAMPLES))).withWorkers(2);
            JobRunner runner = new JobRunner("idle-takes-over", JobFiles.toJson(plan.spec()), plan, cluster.system(),
                    cluster.live(), cluster.exchange(), cluster.runnerSettings(), new JobListener() {
                        @Override
                        public void onStep(StepReport report) {
                            if (report.step() == 5) {
                                sleep(1000); // time for worker-02 to prepare (milliseconds in process)
                            }
                        }

                        @Override
                        public void onEvent(String message) {
                            events.add(message);
                        }
                    });
            JobRunner.Result result = assertTimeoutPreemptively(Duration.ofSeconds(60), runner::run);
            assertTrue(events.stream().anyMatch(e -> e.startsWith("step 3: redoing without [worker-00]")), events.toString());
            assertTrue(events.stream().anyMatch(e -> e.matches("step \\d+: taking on \\[worker-02]; 2 worker\\(s\\)")),
                    events.toString());
            assertEquals(2, result.epochs().get(1).workers());
            // worker-00, which failed, is not asked again
            assertTrue(events.stream().noneMatch(e -> e.contains("taking on [worker-00]")), events.toString());
        }
    }

    /**
     * Takes worker-00 out of the listing after step 3 (running {@code whileAway} then) and puts it
     * back after step 6; records each step's worker count and the job's events.
     */
    private static final class AwayAndBack implements JobListener {

        private final LocalCluster cluster;
        private final List<String> events;
        private final List<Integer> workersPerStep;
        private final Runnable whileAway;
        private List<ActorRef<WorkerActor.Command>> both;

        AwayAndBack(LocalCluster cluster, List<String> events, List<Integer> workersPerStep, Runnable whileAway) {
            this.cluster = cluster;
            this.events = events;
            this.workersPerStep = workersPerStep;
            this.whileAway = whileAway;
        }

        @Override
        public void onStep(StepReport report) {
            workersPerStep.add(report.workers());
            if (report.step() == 1) {
                both = cluster.live().get();
            } else if (report.step() == 3) {
                cluster.live().set(both.subList(1, 2)); // worker-00 leaves
                whileAway.run();
            } else if (report.step() == 6) {
                cluster.live().set(both); // and is back
            } else if (report.step() == 8) {
                // it was asked to prepare before step 7: give that time to finish (in
                // process it takes milliseconds) so that a slow machine still sees it
                // taken on before the job's 18 steps are done
                sleep(1000);
            }
        }

        @Override
        public void onEvent(String message) {
            events.add(message);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aWorkerBackInTheListingIsTakenOnAgain() {
        List<String> events = new CopyOnWriteArrayList<>();
        List<Integer> workersPerStep = new CopyOnWriteArrayList<>();
        JobRunner.Result result = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (LocalCluster cluster = LocalCluster.start(2, Backends.cpu(), List.of(SingleNodeDeterminismTest.EXAMPLES))) {
                return cluster.run(JOB, new AwayAndBack(cluster, events, workersPerStep, () -> { }));
            }
        });
        assertTrue(events.stream().anyMatch(e -> e.matches("step \\d+: taking on \\[worker-00]; 2 worker\\(s\\)")),
                events.toString());
        assertEquals(18, result.steps());
        assertEquals(2, result.epochs().get(1).workers());
        // steps 4–6 on one worker, and from some step after the return on two again, to the end
        assertEquals(List.of(1, 1, 1), workersPerStep.subList(3, 6));
        assertEquals(2, (int) workersPerStep.get(workersPerStep.size() - 1));
    }

    @Test
    void aWorkerThatLoadsChangedDataIsNotTakenOn(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        // the job's data file is replaced (labels reversed) while worker-00 is away: back, it
        // prepares the job from the new file, and would train the same weights on other labels
        java.nio.file.Path csv = dir.resolve("breast_cancer.csv");
        java.nio.file.Files.copy(SingleNodeDeterminismTest.EXAMPLES.resolve("data/breast_cancer.csv"), csv);
        JobSpec job = JobFiles.parse(JobFiles.toJson(JOB).replace(
                SingleNodeDeterminismTest.EXAMPLES.resolve("data/breast_cancer.csv").toString().replace("\\", "/"),
                csv.toString().replace("\\", "/")));
        List<String> events = new CopyOnWriteArrayList<>();
        List<Integer> workersPerStep = new CopyOnWriteArrayList<>();
        try (LocalCluster cluster = LocalCluster.start(2, Backends.cpu(), List.of(dir))) {
            JobPlan plan = JobPlan.load(job, DataRoots.of(List.of(dir)));
            JobRunner runner = new JobRunner("changed-data", JobFiles.toJson(plan.spec()), plan, cluster.system(),
                    cluster.live(), cluster.exchange(), cluster.runnerSettings(),
                    new AwayAndBack(cluster, events, workersPerStep, () -> flipLabels(csv)));
            JobRunner.Result result = assertTimeoutPreemptively(Duration.ofSeconds(60), runner::run);
            assertTrue(events.stream().anyMatch(e -> e.equals("worker worker-00 loaded other data than this job's "
                    + "other workers (a data file changed since the job started, or its host has another file at the "
                    + "same path): it is not taken on")), events.toString());
            assertTrue(events.stream().noneMatch(e -> e.contains("taking on [worker-00]")), events.toString());
            assertEquals(18, result.steps());
            assertEquals(1, (int) workersPerStep.get(workersPerStep.size() - 1));
        }
    }

    /** Rewrites the breast-cancer CSV with every label the other class. */
    private static void flipLabels(java.nio.file.Path csv) {
        try {
            List<String> lines = java.nio.file.Files.readAllLines(csv);
            int target = List.of(lines.get(0).split(",")).indexOf("target");
            List<String> out = new java.util.ArrayList<>(List.of(lines.get(0)));
            for (String line : lines.subList(1, lines.size())) {
                String[] cells = line.split(",", -1);
                cells[target] = cells[target].strip().equals("0") ? "1" : "0";
                out.add(String.join(",", cells));
            }
            java.nio.file.Files.write(csv, out);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
