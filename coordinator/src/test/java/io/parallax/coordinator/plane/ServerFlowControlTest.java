package io.parallax.coordinator.plane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ForwardingServerCall;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.parallax.proto.v1.FetchStateRequest;
import io.parallax.proto.v1.TensorChunk;
import io.parallax.proto.v1.TensorPlaneGrpc;
import io.parallax.worker.plane.FloatChunks;
import io.parallax.worker.plane.TensorExchange;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The state stream follows the client's pace: while the client takes no more chunks, the
 * server stops producing them instead of queueing the whole vector in Netty's buffers.
 */
class ServerFlowControlTest {

    /** Counts the messages the server hands to the transport. */
    private static final class SentMessages implements ServerInterceptor {
        final AtomicInteger count = new AtomicInteger();

        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                ServerCallHandler<Q, R> next) {
            return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                @Override
                public void sendMessage(R message) {
                    count.incrementAndGet();
                    super.sendMessage(message);
                }
            }, headers);
        }
    }

    @Test
    void aSlowReaderHoldsTheSenderBack() throws Exception {
        int n = 12 * FloatChunks.MAX_CHUNK_FLOATS; // 12 MiB
        int chunks = n / FloatChunks.DEFAULT_CHUNK_FLOATS; // in the service's default chunks
        TensorExchange exchange = new TensorExchange();
        exchange.publishState("job", 0, new float[n]);
        SentMessages sent = new SentMessages();
        TensorPlaneServer server = new TensorPlaneServer(
                TensorPlaneServer.netty(new InetSocketAddress("127.0.0.1", 0)).intercept(sent), exchange).start();
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(),
                InsecureChannelCredentials.create()).directExecutor().build();
        try {
            CountDownLatch first = new CountDownLatch(1);
            AtomicInteger received = new AtomicInteger();
            CompletableFuture<Void> done = new CompletableFuture<>();
            CompletableFuture<ClientCallStreamObserver<FetchStateRequest>> call = new CompletableFuture<>();
            TensorPlaneGrpc.newStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS).fetchState(
                    FetchStateRequest.newBuilder().setJobId("job").setVersion(0).build(),
                    new ClientResponseObserver<FetchStateRequest, TensorChunk>() {
                        @Override
                        public void beforeStart(ClientCallStreamObserver<FetchStateRequest> requestStream) {
                            requestStream.disableAutoRequestWithInitial(1); // take one chunk, then stall
                            call.complete(requestStream);
                        }

                        @Override
                        public void onNext(TensorChunk chunk) {
                            received.incrementAndGet();
                            first.countDown();
                        }

                        @Override
                        public void onError(Throwable t) {
                            done.completeExceptionally(t);
                        }

                        @Override
                        public void onCompleted() {
                            done.complete(null);
                        }
                    });
            assertTrue(first.await(10, TimeUnit.SECONDS));
            Thread.sleep(300); // ample time for an unthrottled sender to queue every chunk
            long sentBytes = (long) sent.count.get() * FloatChunks.DEFAULT_CHUNK_BYTES;
            // one chunk delivered, about one HTTP/2 window (1 MiB) in flight and in the transport's
            // buffers, one awaiting the window: a few MiB of the 12, not all of them
            assertTrue(sentBytes <= 4 << 20, "the server sent " + sent.count.get() + " of " + chunks
                    + " chunks (" + sentBytes + " bytes) to a client that took 1");

            call.get().request(chunks);
            done.get(10, TimeUnit.SECONDS);
            assertEquals(chunks, received.get());
            assertEquals(chunks, sent.count.get());
        } finally {
            channel.shutdownNow();
            server.shutdown(Duration.ofSeconds(2));
        }
    }
}
