package io.parallax.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorRef;
import io.parallax.engine.backend.Backends;
import io.parallax.proto.v1.JobSpec;
import io.parallax.worker.WorkerActor;
import io.parallax.worker.plane.TensorPlane;
import io.parallax.worker.plane.TensorPlaneException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A worker that leaves the cluster in the middle of a step costs only itself: the step is redone
 * with the others, including one still computing its shard when the departure is noticed (it
 * used to be dropped with the one that left, and with two workers the job ended with none).
 */
class WorkerLeavesMidStepTest {

    private static final JobSpec JOB = MembershipFixtures.breastCancerJob("one-leaves", "{\"name\": \"sgd\", \"lr\": 0.01}",
            false, 3);

    @Test
    void theStepIsRedoneWithTheWorkerThatWasStillComputing() {
        List<String> events = new CopyOnWriteArrayList<>();
        // worker-01 takes 300 ms to fetch its weights: it is mid-step whenever worker-00 leaves
        LocalCluster.PlaneWrapper slowSecond = (worker, plane) -> worker.equals("worker-01") ? new Slow(plane) : plane;
        JobRunner.Result result = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (LocalCluster cluster = LocalCluster.start(2, Backends.cpu(), List.of(SingleNodeDeterminismTest.EXAMPLES),
                    slowSecond)) {
                return cluster.run(JOB, new JobListener() {
                    @Override
                    public void onStep(StepReport report) {
                        if (report.step() == 3) {
                            List<ActorRef<WorkerActor.Command>> all = cluster.live().get();
                            cluster.live().set(all.subList(1, all.size())); // worker-00 leaves
                        }
                    }

                    @Override
                    public void onEvent(String message) {
                        events.add(message);
                    }
                });
            }
        });
        assertTrue(events.contains("step 3: redoing without [worker-00]; 1 worker(s) left"), events.toString());
        assertTrue(events.stream().noneMatch(e -> e.contains("no workers left")), events.toString());
        assertEquals(18, result.steps());
        assertEquals(1, result.epochs().get(1).workers());
    }

    /** A plane whose fetches take 300 ms. */
    private static final class Slow extends MembershipFixtures.ForwardingPlane {

        Slow(TensorPlane plane) {
            super(plane);
        }

        @Override
        public float[] fetchState(String jobId, long version, float[] reuse) throws TensorPlaneException {
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return super.fetchState(jobId, version, reuse);
        }
    }
}
