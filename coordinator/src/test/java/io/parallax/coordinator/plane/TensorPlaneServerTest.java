package io.parallax.coordinator.plane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.parallax.proto.v1.TensorPlaneGrpc;
import io.parallax.worker.plane.TensorExchange;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The server wrapper: health reports each service it hosts, and shutdown refuses new calls. */
class TensorPlaneServerTest {

    @Test
    void aClientGoingAwayMidReplyIsNotLoggedAsAWarningWithAStackTrace() {
        TensorPlaneServer.netty(new java.net.InetSocketAddress("127.0.0.1", 0)); // loads the class
        java.util.logging.Logger log =
                java.util.logging.Logger.getLogger("io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler");
        java.util.logging.LogRecord streamError = new java.util.logging.LogRecord(java.util.logging.Level.WARNING,
                "Stream Error");
        java.util.logging.LogRecord other = new java.util.logging.LogRecord(java.util.logging.Level.WARNING,
                "Connection Error");
        assertEquals(false, log.getFilter().isLoggable(streamError));
        assertEquals(true, log.getFilter().isLoggable(other));
    }

    @Test
    void healthReportsEveryHostedService() throws Exception {
        String name = InProcessServerBuilder.generateName();
        BindableService jobs = () -> ServerServiceDefinition.builder("parallax.v1.Jobs").build();
        TensorPlaneServer server = new TensorPlaneServer(InProcessServerBuilder.forName(name).directExecutor(),
                new TensorExchange(), jobs).start();
        ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        try {
            HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
            for (String service : new String[] {"", TensorPlaneGrpc.SERVICE_NAME, "parallax.v1.Jobs"}) {
                assertEquals(ServingStatus.SERVING,
                        health.check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus(), service);
            }
            StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
                    () -> health.check(HealthCheckRequest.newBuilder().setService("nope").build()));
            assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());

            server.shutdown(Duration.ofSeconds(2));
            StatusRuntimeException after = assertThrows(StatusRuntimeException.class,
                    () -> HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                            .check(HealthCheckRequest.getDefaultInstance()));
            assertEquals(Status.Code.UNAVAILABLE, after.getStatus().getCode());
        } finally {
            channel.shutdownNow();
            server.close();
        }
    }
}
