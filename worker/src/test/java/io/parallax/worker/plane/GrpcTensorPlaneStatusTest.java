package io.parallax.worker.plane;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.Status;
import org.junit.jupiter.api.Test;

class GrpcTensorPlaneStatusTest {

    @Test
    void aDeadlineIsSaidInWordsNotInTheChannelsInternals() {
        TensorPlaneException e = GrpcTensorPlane.fromStatus(Status.DEADLINE_EXCEEDED.withDescription(
                "CallOptions deadline exceeded after 29.999023854s. Name resolution delay 0.000381189 seconds. "
                        + "[closed=[], open=[[connecting_and_lb_delay=30007391385ns, was_still_waiting]]]"));
        assertEquals(TensorPlaneException.Kind.UNAVAILABLE, e.kind());
        assertEquals("no answer from the coordinator's tensor plane within the deadline (unreachable, or too slow)",
                e.getMessage());
        // other statuses keep their code and description
        assertEquals("NOT_FOUND: no job 'x'", GrpcTensorPlane.fromStatus(Status.NOT_FOUND.withDescription("no job 'x'"))
                .getMessage());
    }
}
