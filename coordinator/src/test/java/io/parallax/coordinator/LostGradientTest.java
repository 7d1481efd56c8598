package io.parallax.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.engine.backend.Backends;
import io.parallax.proto.v1.JobSpec;
import io.parallax.worker.plane.TensorPlane;
import io.parallax.worker.plane.TensorPlaneException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A worker acknowledges a step over Akka while its gradient still travels on the tensor plane.
 * When that push fails on the worker's side without the coordinator seeing a stream break (the
 * worker's link to the plane cut while Akka still works), the worker says so over Akka and the
 * coordinator redoes the step without it at once, instead of waiting out the step timeout
 * (five minutes in single-node mode) for a vector that will never come.
 */
class LostGradientTest {

    private static final JobSpec JOB = MembershipFixtures.breastCancerJob("lost-gradient", "{\"name\": \"sgd\", \"lr\": 0.01}",
            false, 3);

    /**
     * @param late whether the push fails after the worker has acknowledged the step and the
     *             coordinator waits for the vector (as over gRPC), or before (as in process)
     */
    @ParameterizedTest(name = "failure reported late: {0}")
    @ValueSource(booleans = {false, true})
    void aWorkerWhoseGradientNeverArrivesIsDroppedAtOnceNotAtTheStepTimeout(boolean late) {
        AtomicInteger pushes = new AtomicInteger();
        LocalCluster.PlaneWrapper cutAfterThreePushes = (worker, plane) ->
                worker.equals("worker-01") ? new CutAfter(plane, 3, late, pushes) : plane;
        List<String> events = new CopyOnWriteArrayList<>();
        JobRunner.Result result = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (LocalCluster cluster = LocalCluster.start(2, Backends.cpu(), List.of(SingleNodeDeterminismTest.EXAMPLES),
                    cutAfterThreePushes)) {
                return cluster.run(JOB, new JobListener() {
                    @Override
                    public void onEvent(String message) {
                        events.add(message);
                    }
                });
            }
        });
        // 569 rows at batch 64: 9 steps per epoch, all of them done (the fourth twice)
        assertEquals(18, result.steps());
        assertEquals(1, result.redoneSteps(), events.toString());
        assertTrue(events.stream().anyMatch(e -> e.startsWith("step 3: redoing without [worker-01]")
                && e.contains("worker-01 could not hand in its gradient: link cut for the test")), events.toString());
        assertEquals(4, pushes.get(), "worker-01 got no step after its lost one");
    }

    /**
     * A worker's plane whose pushes fail from the {@code (after + 1)}-th on, as over a cut link;
     * {@link TensorPlane#sendGradient} turns the failure into a failed future, as the gRPC plane's
     * does, {@code late}: 300 ms later.
     */
    static final class CutAfter extends MembershipFixtures.ForwardingPlane {

        private final int after;
        private final boolean late;
        private final AtomicInteger pushes;

        CutAfter(TensorPlane plane, int after, boolean late, AtomicInteger pushes) {
            super(plane);
            this.after = after;
            this.late = late;
            this.pushes = pushes;
        }

        @Override
        public void pushGradient(String jobId, long step, int attempt, String worker, float[] gradient)
                throws TensorPlaneException {
            if (pushes.incrementAndGet() > after) {
                throw new TensorPlaneException(TensorPlaneException.Kind.UNAVAILABLE, "link cut for the test");
            }
            super.pushGradient(jobId, step, attempt, worker, gradient);
        }

        @Override
        public CompletableFuture<Void> sendGradient(String jobId, long step, int attempt, String worker,
                                                    float[] gradient) {
            CompletableFuture<Void> sent = super.sendGradient(jobId, step, attempt, worker, gradient);
            if (!late) {
                return sent;
            }
            CompletableFuture<Void> later = new CompletableFuture<>();
            sent.whenCompleteAsync((ok, e) -> {
                if (e != null) {
                    later.completeExceptionally(e);
                } else {
                    later.complete(ok);
                }
            }, CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS));
            return later;
        }
    }
}
