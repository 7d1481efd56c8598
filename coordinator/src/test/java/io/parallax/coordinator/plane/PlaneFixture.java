package io.parallax.coordinator.plane;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ServerBuilder;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.parallax.worker.plane.FloatChunks;
import io.parallax.worker.plane.GrpcTensorPlane;
import io.parallax.worker.plane.TensorExchange;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * A coordinator's tensor-plane server and a channel to it, over real Netty on 127.0.0.1
 * (ephemeral port) or in process; closes both.
 */
final class PlaneFixture implements AutoCloseable {

    /** How the worker reaches the coordinator. */
    enum Transport { NETTY, IN_PROCESS }

    final TensorExchange exchange;
    final TensorPlaneService service;
    final TensorPlaneServer server;
    final ManagedChannel channel;

    PlaneFixture(Transport transport, TensorExchange exchange) {
        this(transport, exchange, new TensorPlaneService(exchange));
    }

    PlaneFixture(Transport transport, TensorExchange exchange, TensorPlaneService service) {
        this.exchange = exchange;
        String name = InProcessServerBuilder.generateName();
        ServerBuilder<?> builder = transport == Transport.NETTY
                ? TensorPlaneServer.netty(new InetSocketAddress("127.0.0.1", 0))
                : InProcessServerBuilder.forName(name).directExecutor();
        this.service = service;
        this.server = new TensorPlaneServer(builder, service);
        try {
            server.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.channel = transport == Transport.NETTY
                ? Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create())
                        .directExecutor().build()
                : InProcessChannelBuilder.forName(name).directExecutor().build();
    }

    PlaneFixture(Transport transport) {
        this(transport, new TensorExchange());
    }

    /** A client with the default chunk size and {@code deadline}. */
    GrpcTensorPlane client(Duration deadline) {
        return new GrpcTensorPlane(channel, deadline, FloatChunks.MAX_CHUNK_BYTES);
    }

    GrpcTensorPlane client() {
        return client(Duration.ofSeconds(10));
    }

    static float[] randomVector(int n, long seed) {
        Random random = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server.shutdown(Duration.ofSeconds(2));
    }
}
