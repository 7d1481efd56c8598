package io.parallax.coordinator.plane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.parallax.proto.v1.FetchStateRequest;
import io.parallax.proto.v1.GradientChunk;
import io.parallax.proto.v1.PushGradientReply;
import io.parallax.proto.v1.TensorChunk;
import io.parallax.proto.v1.TensorPlaneGrpc;
import io.parallax.worker.plane.FloatChunks;
import io.parallax.worker.plane.GrpcTensorPlane;
import io.parallax.worker.plane.TensorExchange;
import io.parallax.worker.plane.TensorPlaneException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The client's own duties: chunk sizes, deadlines that end calls, failures mapped to kinds. */
class GrpcTensorPlaneClientTest {

    /** Records the payload size of every gradient chunk the server receives. */
    private static final class ChunkSizes implements ServerInterceptor {
        final List<Integer> sizes = new CopyOnWriteArrayList<>();

        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                ServerCallHandler<Q, R> next) {
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
                @Override
                public void onMessage(Q message) {
                    if (message instanceof GradientChunk chunk) {
                        sizes.add(chunk.getData().size());
                    }
                    super.onMessage(message);
                }
            };
        }
    }

    @ParameterizedTest(name = "{0} B chunks")
    @ValueSource(ints = {FloatChunks.MAX_CHUNK_BYTES, 256 << 10})
    void pushedChunksStayWithinTheConfiguredSize(int chunkBytes) throws Exception {
        TensorExchange exchange = new TensorExchange();
        ChunkSizes recorder = new ChunkSizes();
        String name = InProcessServerBuilder.generateName();
        int n = 3_000_000;
        exchange.publishState("job", 0, new float[n]);
        TensorPlaneServer server = new TensorPlaneServer(
                InProcessServerBuilder.forName(name).directExecutor().intercept(recorder), exchange).start();
        ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        try (GrpcTensorPlane client = new GrpcTensorPlane(channel, Duration.ofSeconds(10), chunkBytes)) {
            float[] gradient = PlaneFixture.randomVector(n, 6);
            client.pushGradient("job", 0, 0, "w", gradient);
            assertArrayEquals(gradient, exchange.gradient("job", 0, 0, "w"));
        } finally {
            channel.shutdownNow();
            server.shutdown(Duration.ofSeconds(2));
        }
        assertEquals((n * 4L + chunkBytes - 1) / chunkBytes, recorder.sizes.size());
        for (int size : recorder.sizes) {
            assertTrue(size <= chunkBytes, "chunk of " + size + " bytes");
        }
    }

    @Test
    void badSettingsAreRefused() {
        ManagedChannel channel = InProcessChannelBuilder.forName("unused").build();
        try {
            Duration d = Duration.ofSeconds(1);
            assertThrows(IllegalArgumentException.class, () -> new GrpcTensorPlane(channel, d, (1 << 20) + 4));
            assertThrows(IllegalArgumentException.class, () -> new GrpcTensorPlane(channel, d, 6));
            assertThrows(IllegalArgumentException.class, () -> new GrpcTensorPlane(channel, d, 0));
            assertThrows(IllegalArgumentException.class, () -> new GrpcTensorPlane(channel, Duration.ZERO, 4096));
        } finally {
            channel.shutdownNow();
        }
    }

    /**
     * A coordinator that takes calls and never answers: it sends no state chunk, and reads no
     * gradient chunk (so the client's flow control stops it, too).
     */
    private static final class SilentService extends TensorPlaneGrpc.TensorPlaneImplBase {
        @Override
        public void fetchState(FetchStateRequest request, StreamObserver<TensorChunk> responseObserver) {}

        @Override
        public StreamObserver<GradientChunk> pushGradient(StreamObserver<PushGradientReply> responseObserver) {
            ((ServerCallStreamObserver<PushGradientReply>) responseObserver).disableAutoRequest();
            return new StreamObserver<>() {
                @Override
                public void onNext(GradientChunk value) {}

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {}
            };
        }
    }

    @Test
    void aServerThatNeverAnswersGivesUnavailableWithinTheDeadline() throws Exception {
        Server server = TensorPlaneServer.netty(new InetSocketAddress("127.0.0.1", 0))
                .addService(new SilentService()).build().start();
        Duration deadline = Duration.ofMillis(400);
        try (GrpcTensorPlane client = GrpcTensorPlane.connect("127.0.0.1", server.getPort(), deadline,
                FloatChunks.MAX_CHUNK_BYTES)) {
            float[] big = new float[3_000_000]; // more than the HTTP/2 windows hold: the push stalls
            assertUnavailableWithin(deadline, () -> client.fetchState("job", 0, null));
            assertUnavailableWithin(deadline, () -> client.pushGradient("job", 0, 0, "w", big));
            assertUnavailableWithin(deadline, () -> client.pushGradient("job", 0, 0, "w", new float[3]));
        } finally {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void thePushStopsWhileTheServerReadsNothing() throws Exception {
        Server server = TensorPlaneServer.netty(new InetSocketAddress("127.0.0.1", 0))
                .addService(new SilentService()).build().start();
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.getPort(),
                InsecureChannelCredentials.create()).directExecutor().build();
        AtomicInteger sent = new AtomicInteger();
        ClientInterceptor counter = new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
                return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                    @Override
                    public void sendMessage(Q message) {
                        sent.incrementAndGet();
                        super.sendMessage(message);
                    }
                };
            }
        };
        Duration deadline = Duration.ofMillis(500);
        try (GrpcTensorPlane client = new GrpcTensorPlane(ClientInterceptors.intercept(channel, counter), deadline,
                FloatChunks.MAX_CHUNK_BYTES)) {
            float[] big = new float[12 * FloatChunks.MAX_CHUNK_FLOATS];
            assertUnavailableWithin(deadline, () -> client.pushGradient("job", 0, 0, "w", big));
            // about one HTTP/2 window (1 MiB) in flight and one chunk waiting for it; not all 12
            assertTrue(sent.get() <= 4, "the client sent " + sent.get() + " of 12 chunks to a server that read none");
        } finally {
            channel.shutdownNow();
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aStoppedServerGivesUnavailableWithinTheDeadline() throws Exception {
        TensorPlaneServer server = new TensorPlaneServer(
                TensorPlaneServer.netty(new InetSocketAddress("127.0.0.1", 0)), new TensorExchange()).start();
        int port = server.port();
        server.shutdown(Duration.ofSeconds(2));
        Duration deadline = Duration.ofSeconds(2);
        try (GrpcTensorPlane client = GrpcTensorPlane.connect("127.0.0.1", port, deadline, FloatChunks.MAX_CHUNK_BYTES)) {
            TensorPlaneException e = assertUnavailableWithin(deadline, () -> client.fetchState("job", 0, null));
            assertFalse(e.getMessage().isEmpty());
            assertUnavailableWithin(deadline, () -> client.pushGradient("job", 0, 0, "w", new float[10]));
        }
    }

    /** A coordinator that answers every fetch with the given chunks. */
    private static final class ScriptedService extends TensorPlaneGrpc.TensorPlaneImplBase {
        private final List<TensorChunk> chunks;

        ScriptedService(List<TensorChunk> chunks) {
            this.chunks = chunks;
        }

        @Override
        public void fetchState(FetchStateRequest request, StreamObserver<TensorChunk> responseObserver) {
            chunks.forEach(responseObserver::onNext);
            responseObserver.onCompleted();
        }
    }

    private static TensorChunk stateChunk(long version, long offset, long total, int floats) {
        return TensorChunk.newBuilder().setVersion(version).setOffset(offset).setTotalLength(total)
                .setData(FloatChunks.encode(new float[floats], 0, floats)).build();
    }

    @Test
    void aMalformedStateStreamIsRefused() throws Exception {
        List<List<TensorChunk>> scripts = List.of(
                List.of(stateChunk(1, 0, 4, 4)), // another version
                List.of(stateChunk(0, 0, 8, 4), stateChunk(0, 6, 8, 2)), // a gap
                List.of(stateChunk(0, 0, 8, 4)), // short
                List.of(stateChunk(0, 0, 4, 4), stateChunk(0, 4, 4, 1)), // too long
                List.of(stateChunk(0, 0, 8, 4), stateChunk(0, 4, 9, 4)), // inconsistent total_length
                List.of()); // nothing at all
        for (List<TensorChunk> script : scripts) {
            String name = InProcessServerBuilder.generateName();
            Server server = InProcessServerBuilder.forName(name).directExecutor()
                    .addService(new ScriptedService(script)).build().start();
            ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
            try (GrpcTensorPlane client = new GrpcTensorPlane(channel, Duration.ofSeconds(5), 4096)) {
                float[] reuse = new float[8];
                TensorPlaneException e = assertThrows(TensorPlaneException.class,
                        () -> client.fetchState("job", 0, reuse), script.toString());
                assertEquals(TensorPlaneException.Kind.INVALID, e.kind(), e.getMessage());
            } finally {
                channel.shutdownNow();
                server.shutdownNow();
            }
        }
    }

    private static TensorPlaneException assertUnavailableWithin(Duration deadline, Executable call) {
        long start = System.nanoTime();
        TensorPlaneException e = assertThrows(TensorPlaneException.class, call);
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        assertEquals(TensorPlaneException.Kind.UNAVAILABLE, e.kind(), e.getMessage());
        // gRPC reports an expired deadline a few ms late at most; a second of slack covers a loaded machine
        assertTrue(elapsedMs < deadline.toMillis() + 1000, "took " + elapsedMs + " ms with a deadline of " + deadline);
        return e;
    }
}
