package io.parallax.coordinator.plane;

import io.grpc.BindableService;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.parallax.worker.plane.TensorExchange;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The coordinator's gRPC server: the {@link TensorPlaneService}, any further services given
 * (the job API, say), the standard health service (each service reported SERVING while the
 * server runs) and server reflection (so {@code grpcurl} can list and call it).
 *
 * <p>Takes a {@link ServerBuilder} so tests can run it in-process; {@link #netty} makes the
 * production one. Shuts down gracefully: health turns NOT_SERVING, new calls are refused, calls
 * in flight get a grace period to finish.
 */
public final class TensorPlaneServer implements AutoCloseable {

    /**
     * grpc-netty logs every client that goes away in the middle of a reply (a watcher closed, a
     * download interrupted: routine) as a WARNING with a 35-line stack trace; a coordinator's
     * log filled with them. Other records of that logger pass. Held in a field because
     * java.util.logging keeps loggers only weakly, and a collected logger loses its filter.
     */
    private static final java.util.logging.Logger NETTY_SERVER_LOG = quietStreamErrors(
            java.util.logging.Logger.getLogger("io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler"));

    private static java.util.logging.Logger quietStreamErrors(java.util.logging.Logger log) {
        log.setFilter(r -> !"Stream Error".equals(r.getMessage()));
        return log;
    }

    /** Grace period of {@link #close()} for calls in flight. */
    public static final Duration DEFAULT_GRACE = Duration.ofSeconds(5);

    private final Server server;
    private final HealthStatusManager health = new HealthStatusManager();
    private final List<String> serviceNames = new ArrayList<>();
    private final AtomicBoolean stopping = new AtomicBoolean();

    /**
     * Builds (but does not start) a server on {@code builder} serving {@code exchange} and
     * {@code moreServices}.
     */
    public TensorPlaneServer(ServerBuilder<?> builder, TensorExchange exchange, BindableService... moreServices) {
        this(builder, new TensorPlaneService(exchange), moreServices);
    }

    /** Builds (but does not start) a server on {@code builder} serving {@code service} and {@code moreServices}. */
    public TensorPlaneServer(ServerBuilder<?> builder, TensorPlaneService service, BindableService... moreServices) {
        List<BindableService> services = new ArrayList<>();
        services.add(service);
        services.addAll(List.of(moreServices));
        for (BindableService s : services) {
            ServerServiceDefinition definition = s.bindService();
            builder.addService(definition);
            serviceNames.add(definition.getServiceDescriptor().getName());
        }
        this.server = builder.addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .addService(alphaReflection())
                .build();
    }

    /**
     * Reflection's older v1alpha service, which grpc-java marks deprecated but which many
     * installed clients (grpcurl and friends before 2024) still ask for first.
     */
    @SuppressWarnings("deprecation")
    private static BindableService alphaReflection() {
        return io.grpc.protobuf.services.ProtoReflectionService.newInstance();
    }

    /**
     * A plaintext Netty server builder bound to {@code address} (port 0: an ephemeral port).
     * It runs handlers on the transport's threads ({@code directExecutor}, no thread hop per
     * chunk), so every service added must have handlers that never block; give a builder with
     * an executor otherwise. The server pings a connection idle for a minute and closes it if
     * the ping goes unanswered for 20 s: a client that hangs (a stopped process, a host gone)
     * would otherwise hold its streams and their open files for good.
     */
    public static ServerBuilder<?> netty(InetSocketAddress address) {
        return NettyServerBuilder.forAddress(address, InsecureServerCredentials.create()).directExecutor()
                .keepAliveTime(60, TimeUnit.SECONDS).keepAliveTimeout(20, TimeUnit.SECONDS);
    }

    /** Starts serving; health reports every service SERVING. */
    public TensorPlaneServer start() throws IOException {
        server.start();
        health.setStatus("", ServingStatus.SERVING);
        for (String name : serviceNames) {
            health.setStatus(name, ServingStatus.SERVING);
        }
        return this;
    }

    /** The port the server listens on (the ephemeral one chosen if it was bound to port 0); −1 in process. */
    public int port() {
        return server.getPort();
    }

    /**
     * Stops the server: health turns NOT_SERVING, new calls are refused, calls in flight have
     * {@code grace} to finish and are then cancelled. Calls after the first do nothing.
     */
    public void shutdown(Duration grace) {
        if (!stopping.compareAndSet(false, true)) {
            return;
        }
        health.enterTerminalState();
        server.shutdown();
        try {
            if (!server.awaitTermination(grace.toNanos(), TimeUnit.NANOSECONDS)) {
                server.shutdownNow();
                server.awaitTermination(grace.toNanos(), TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    /** Blocks until the server has terminated (for a process whose main thread only serves). */
    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /** {@link #shutdown} with {@link #DEFAULT_GRACE}. */
    @Override
    public void close() {
        shutdown(DEFAULT_GRACE);
    }
}
