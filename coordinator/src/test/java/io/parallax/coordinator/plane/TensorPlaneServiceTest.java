package io.parallax.coordinator.plane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.parallax.coordinator.plane.PlaneFixture.Transport;
import io.parallax.proto.v1.FetchStateRequest;
import io.parallax.proto.v1.GradientChunk;
import io.parallax.proto.v1.GradientHeader;
import io.parallax.proto.v1.PushGradientReply;
import io.parallax.proto.v1.TensorChunk;
import io.parallax.proto.v1.TensorPlaneGrpc;
import io.parallax.worker.plane.FloatChunks;
import io.parallax.worker.plane.GrpcTensorPlane;
import io.parallax.worker.plane.TensorExchange;
import io.parallax.worker.plane.TensorPlaneException;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The service's contract as a raw gRPC client sees it: malformed gradient streams, unknown jobs
 * and stale versions end with the right status and a description, never a stack trace; state
 * streams keep every chunk within 1 MiB.
 */
class TensorPlaneServiceTest {

    private static final int N = 10;

    private PlaneFixture plane;
    private TensorPlaneGrpc.TensorPlaneStub stub;

    @BeforeEach
    void start() {
        plane = new PlaneFixture(Transport.IN_PROCESS);
        plane.exchange.publishState("job", 3, new float[N]);
        stub = TensorPlaneGrpc.newStub(plane.channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() {
        plane.close();
    }

    private static GradientHeader header(long totalLength) {
        return GradientHeader.newBuilder().setJobId("job").setStep(3).setAttempt(0).setWorker("w")
                .setTotalLength(totalLength).build();
    }

    private static GradientChunk chunk(GradientHeader header, long offset, int floats) {
        GradientChunk.Builder b = GradientChunk.newBuilder().setOffset(offset)
                .setData(FloatChunks.encode(new float[floats], 0, floats));
        if (header != null) {
            b.setHeader(header);
        }
        return b.build();
    }

    @Test
    void aGradientTheCoordinatorHasNoMemoryForFailsTheJobNotTheWorker() throws Exception {
        TensorExchange exchange = new TensorExchange();
        exchange.publishState("job", 3, new float[N]);
        // what new float[n] throws for a model too large for the coordinator's heap
        TensorPlaneService full = new TensorPlaneService(exchange, FloatChunks.DEFAULT_CHUNK_BYTES, n -> {
            throw new OutOfMemoryError("Java heap space");
        });
        try (PlaneFixture p = new PlaneFixture(Transport.IN_PROCESS, exchange, full)) {
            stub = TensorPlaneGrpc.newStub(p.channel).withDeadlineAfter(10, TimeUnit.SECONDS);
            CompletableFuture<float[]> awaited = exchange.awaitGradient("job", 3, 0, "w");
            Status status = push(List.of(chunk(header(N), 0, N)));
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, status.getCode(), status.toString());
            String fault = exchange.fault("job");
            assertNotNull(fault, "the job is told");
            assertTrue(fault.startsWith("the coordinator ran out of memory receiving the gradient of step 3 from w "
                    + "(Java heap space; its JVM may use "), fault);
            assertTrue(fault.contains("JAVA_OPTS=-Xmx"), fault);
            assertEquals(fault, status.getDescription());
            assertTrue(awaited.isCompletedExceptionally(), "whoever waits for the vector learns it will not come");
        }
        assertNull(plane.exchange.fault("job"), "a job whose vectors fit has no fault");
    }

    @Test
    void aSummedGradientsArrayIsFilledByALaterStreamOfTheJob() throws Exception {
        GradientHeader step3 = header(N);
        GradientHeader step4 = step3.toBuilder().setStep(4).build();
        GradientChunk ones = GradientChunk.newBuilder().setHeader(step4).setOffset(0)
                .setData(FloatChunks.encode(filled(N, 1f), 0, N)).build();
        assertEquals(Status.Code.OK, push(List.of(chunk(step3, 0, N))).getCode());
        float[] first = plane.exchange.gradient("job", 3, 0, "w");
        assertNotNull(first);
        // the coordinator has summed step 3: its arrays go back to the service
        plane.exchange.forgetStepsBefore("job", 4);
        assertEquals(Status.Code.OK, push(List.of(ones)).getCode());
        float[] second = plane.exchange.gradient("job", 4, 0, "w");
        assertTrue(first == second, "the array of step 3 holds the gradient of step 4");
        assertEquals(java.util.Arrays.toString(filled(N, 1f)), java.util.Arrays.toString(second));
        // a job that ends takes its spare arrays with it
        plane.exchange.forgetStepsBefore("job", 5);
        plane.exchange.endJob("job");
        plane.exchange.publishState("job", 3, new float[N]);
        assertEquals(Status.Code.OK, push(List.of(chunk(step3, 0, N))).getCode());
        assertTrue(plane.exchange.gradient("job", 3, 0, "w") != second, "no array outlives its job");
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    /** Sends {@code chunks} as one stream and returns the status the call ended with. */
    private Status push(List<GradientChunk> chunks) throws Exception {
        CompletableFuture<Status> done = new CompletableFuture<>();
        StreamObserver<GradientChunk> requests = stub.pushGradient(new StreamObserver<PushGradientReply>() {
            @Override
            public void onNext(PushGradientReply reply) {}

            @Override
            public void onError(Throwable t) {
                done.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                done.complete(Status.OK);
            }
        });
        chunks.forEach(requests::onNext);
        requests.onCompleted();
        return done.get(10, TimeUnit.SECONDS);
    }

    private void assertRejected(Status.Code code, String descriptionPart, List<GradientChunk> chunks) throws Exception {
        Status status = push(chunks);
        assertEquals(code, status.getCode(), String.valueOf(status));
        assertNotNull(status.getDescription());
        assertTrue(status.getDescription().contains(descriptionPart), status.getDescription());
        assertFalse(status.getDescription().contains("\tat "), "no stack trace crosses the wire");
        assertNull(plane.exchange.gradient("job", 3, 0, "w"), "a rejected stream stores nothing");
    }

    @Test
    void theEncodedStateGoesWhenItsJobEnds() throws Exception {
        assertEquals(N, plane.client().fetchState("job", 3, null).length);
        assertEquals(1, plane.service.encodedJobs());
        plane.exchange.endJob("job");
        assertEquals(0, plane.service.encodedJobs());
    }

    @Test
    void aWellFormedStreamIsStored() throws Exception {
        assertEquals(Status.Code.OK, push(List.of(chunk(header(N), 0, 4), chunk(null, 4, 6))).getCode());
        assertEquals(N, plane.exchange.gradient("job", 3, 0, "w").length);
    }

    @Test
    void malformedStreamsAreInvalidArguments() throws Exception {
        assertRejected(Status.Code.INVALID_ARGUMENT, "must carry the header", List.of(chunk(null, 0, N)));
        assertRejected(Status.Code.INVALID_ARGUMENT, "carries a header",
                List.of(chunk(header(N), 0, 4), chunk(header(N), 4, 6)));
        assertRejected(Status.Code.INVALID_ARGUMENT, "gap", List.of(chunk(header(N), 0, 4), chunk(null, 6, 4)));
        assertRejected(Status.Code.INVALID_ARGUMENT, "overlaps",
                List.of(chunk(header(N), 0, 4), chunk(null, 2, 6)));
        assertRejected(Status.Code.INVALID_ARGUMENT, "ascending order",
                List.of(chunk(header(N), 0, 2), chunk(null, 6, 4), chunk(null, 2, 4)));
        assertRejected(Status.Code.INVALID_ARGUMENT, "ended after 6 of 10",
                List.of(chunk(header(N), 0, 4), chunk(null, 4, 2)));
        assertRejected(Status.Code.INVALID_ARGUMENT, "runs past", List.of(chunk(header(N), 0, 4), chunk(null, 4, 7)));
        assertRejected(Status.Code.INVALID_ARGUMENT, "empty gradient stream", List.of());
        assertRejected(Status.Code.INVALID_ARGUMENT, "whose vectors hold 10", List.of(chunk(header(N + 1), 0, N + 1)));
        assertRejected(Status.Code.INVALID_ARGUMENT, "whole number of float32",
                List.of(GradientChunk.newBuilder().setHeader(header(N)).setData(ByteString.copyFrom(new byte[5])).build()));
        assertRejected(Status.Code.INVALID_ARGUMENT, "must name the job and the worker",
                List.of(chunk(header(N).toBuilder().setWorker("").build(), 0, N)));
        assertRejected(Status.Code.INVALID_ARGUMENT, "must be >= 0",
                List.of(chunk(header(N).toBuilder().setAttempt(-1).build(), 0, N)));
    }

    @Test
    void aChunkOverOneMebibyteIsRefused() throws Exception {
        int n = FloatChunks.MAX_CHUNK_FLOATS + 1;
        plane.exchange.publishState("job", 3, new float[n]);
        assertRejected(Status.Code.INVALID_ARGUMENT, "at most 1048576", List.of(chunk(header(n), 0, n)));
    }

    @Test
    void anUnknownJobIsNotFound() throws Exception {
        Status status = push(List.of(chunk(header(N).toBuilder().setJobId("nope").build(), 0, N)));
        assertEquals(Status.Code.NOT_FOUND, status.getCode());
        assertTrue(status.getDescription().contains("'nope'"), status.getDescription());

        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> TensorPlaneGrpc
                .newBlockingStub(plane.channel).fetchState(request("nope", 3)).hasNext());
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());

        try (GrpcTensorPlane client = plane.client()) {
            assertEquals(TensorPlaneException.Kind.NOT_FOUND,
                    assertThrows(TensorPlaneException.class, () -> client.fetchState("nope", 3, null)).kind());
            assertEquals(TensorPlaneException.Kind.NOT_FOUND,
                    assertThrows(TensorPlaneException.class, () -> client.pushGradient("nope", 3, 0, "w", new float[N]))
                            .kind());
        }
    }

    @Test
    void aStaleVersionIsAFailedPrecondition() throws Exception {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> TensorPlaneGrpc.newBlockingStub(plane.channel).fetchState(request("job", 2)).hasNext());
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("at weight version 3, not 2"), e.getStatus().getDescription());

        try (GrpcTensorPlane client = plane.client()) {
            TensorPlaneException stale = assertThrows(TensorPlaneException.class, () -> client.fetchState("job", 5, null));
            assertEquals(TensorPlaneException.Kind.STALE, stale.kind());
            assertTrue(stale.getMessage().contains("not 5"), stale.getMessage());
        }
    }

    @Test
    void aFetchOfTheNextVersionWaitsForItsPublication() throws Exception {
        // a step's command may reach a worker before the coordinator has published its weights
        try (GrpcTensorPlane client = plane.client()) {
            java.util.concurrent.CompletableFuture<float[]> fetched = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> {
                        try {
                            return client.fetchState("job", 4, null);
                        } catch (TensorPlaneException e) {
                            throw new java.util.concurrent.CompletionException(e);
                        }
                    });
            Thread.sleep(200);
            assertTrue(!fetched.isDone(), "answered before version 4 was published");
            float[] four = new float[N];
            java.util.Arrays.fill(four, 4f);
            plane.exchange.publishState("job", 4, four);
            assertEquals(4f, fetched.get(10, java.util.concurrent.TimeUnit.SECONDS)[N - 1]);
        }
    }

    @Test
    void stateChunksStayWithinOneMebibyte() {
        int n = 3_000_000; // 12 MB: three times the 4 MiB message limit
        plane.exchange.publishState("big", 1, PlaneFixture.randomVector(n, 5));
        Iterator<TensorChunk> chunks = TensorPlaneGrpc.newBlockingStub(plane.channel)
                .withDeadlineAfter(10, TimeUnit.SECONDS).fetchState(request("big", 1));
        long expectedOffset = 0;
        int count = 0;
        while (chunks.hasNext()) {
            TensorChunk c = chunks.next();
            assertTrue(c.getData().size() <= FloatChunks.MAX_CHUNK_BYTES, "chunk of " + c.getData().size() + " bytes");
            assertTrue(c.getSerializedSize() < 4 << 20);
            assertEquals(expectedOffset, c.getOffset());
            assertEquals(n, c.getTotalLength());
            assertEquals(1, c.getVersion());
            expectedOffset += c.getData().size() / Float.BYTES;
            count++;
        }
        assertEquals(n, expectedOffset);
        assertEquals((n + FloatChunks.DEFAULT_CHUNK_FLOATS - 1) / FloatChunks.DEFAULT_CHUNK_FLOATS, count);
    }

    private static FetchStateRequest request(String job, long version) {
        return FetchStateRequest.newBuilder().setJobId(job).setVersion(version).build();
    }
}
