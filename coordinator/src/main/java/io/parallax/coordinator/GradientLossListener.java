package io.parallax.coordinator;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import io.parallax.worker.WorkerActor;
import io.parallax.worker.plane.TensorExchange;
import io.parallax.worker.plane.TensorPlaneException;

/**
 * One job's ear for {@link WorkerActor.GradientLost}: a worker acknowledges a step over Akka while
 * its gradient still travels on the tensor plane, and when that push fails before any stream
 * reached the coordinator (the worker's link to the plane cut while Akka still works), nothing on
 * the coordinator's side would notice until the step timeout. The listener fails the
 * coordinator's wait for that vector at once, with the worker's reason, so the step is redone
 * without it. A vector already stored is kept (a completed wait stays completed).
 */
final class GradientLossListener {

    /** Ends the listener when its job has ended. */
    enum Stop { STOP }

    private GradientLossListener() {}

    static Behavior<Object> create(String jobId, TensorExchange exchange) {
        return Behaviors.receive(Object.class)
                .onMessage(WorkerActor.GradientLost.class, m -> {
                    if (m.jobId().equals(jobId)) {
                        exchange.rejectGradient(jobId, m.step(), m.attempt(), m.worker(), new TensorPlaneException(
                                TensorPlaneException.Kind.UNAVAILABLE, m.worker() + " could not hand in its gradient: "
                                + m.message()));
                    }
                    return Behaviors.same();
                })
                .onMessageEquals(Stop.STOP, Behaviors::stopped)
                .build();
    }
}
