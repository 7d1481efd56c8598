package io.parallax.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.engine.backend.Backends;
import io.parallax.proto.v1.JobSpec;
import io.parallax.worker.plane.TensorPlane;
import io.parallax.worker.plane.TensorPlaneException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * When the coordinator's own side of the tensor plane refuses a step's vectors (it has no memory
 * for a gradient, as {@code TensorPlaneService} reports), the job fails at once with that reason:
 * the workers did nothing wrong, and dropping them one by one ended the job with "no workers
 * left" and a worker's error that pointed away from the coordinator.
 */
class CoordinatorPlaneFaultTest {

    private static final JobSpec JOB = MembershipFixtures.breastCancerJob("plane-fault", "{\"name\": \"sgd\", \"lr\": 0.01}",
            false, 3);
    private static final String REASON = "the coordinator ran out of memory receiving the gradient (for the test)";

    @Test
    void aFaultOfTheCoordinatorsPlaneFailsTheJobWithItsReason() {
        AtomicReference<LocalCluster> holder = new AtomicReference<>();
        AtomicInteger pushes = new AtomicInteger();
        LocalCluster.PlaneWrapper refusing = (worker, plane) -> worker.equals("worker-01")
                ? new MembershipFixtures.ForwardingPlane(plane) {
                    @Override
                    public void pushGradient(String jobId, long step, int attempt, String w, float[] gradient)
                            throws TensorPlaneException {
                        if (pushes.incrementAndGet() == 3) {
                            // what the gRPC service does when it cannot allocate the vector
                            holder.get().exchange().reportFault(jobId, REASON);
                            holder.get().exchange().rejectGradient(jobId, step, attempt, w,
                                    new TensorPlaneException(TensorPlaneException.Kind.INVALID, REASON));
                            return;
                        }
                        super.pushGradient(jobId, step, attempt, w, gradient);
                    }
                }
                : plane;
        List<String> events = new CopyOnWriteArrayList<>();
        JobFailedException failed = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (LocalCluster cluster = LocalCluster.start(2, Backends.cpu(),
                    List.of(SingleNodeDeterminismTest.EXAMPLES), refusing)) {
                holder.set(cluster);
                return assertThrows(JobFailedException.class, () -> cluster.run(JOB, new JobListener() {
                    @Override
                    public void onEvent(String message) {
                        events.add(message);
                    }
                }));
            }
        });
        assertEquals("step 2 (epoch 1): " + REASON, failed.getMessage());
        assertTrue(events.stream().noneMatch(e -> e.contains("redoing without")), events.toString());
    }
}
