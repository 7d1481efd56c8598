package io.parallax.coordinator.plane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.coordinator.plane.PlaneFixture.Transport;
import io.parallax.worker.plane.GrpcTensorPlane;
import io.parallax.worker.plane.TensorPlaneException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The two calls of the step protocol that do not wait for a round trip, over real Netty: a
 * prefetch of the next version is answered the moment the coordinator publishes it, and a
 * gradient sent without waiting reaches the exchange (or is reported rejected there).
 */
class EarlyStateAndAckTest {

    private static final int N = 300_000; // two chunks

    private PlaneFixture plane;

    @BeforeEach
    void start() {
        plane = new PlaneFixture(Transport.NETTY);
        plane.exchange.publishState("job", 3, PlaneFixture.randomVector(N, 3));
    }

    @AfterEach
    void stop() {
        plane.close();
    }

    @Test
    void aPrefetchOfTheNextVersionArrivesWhenItIsPublished() throws Exception {
        float[] next = PlaneFixture.randomVector(N, 4);
        try (GrpcTensorPlane client = plane.client(Duration.ofSeconds(10))) {
            client.prefetchState("job", 4, null);
            Thread.sleep(200); // the request is parked on the coordinator, not refused as stale
            plane.exchange.publishState("job", 4, next);
            assertArrayEquals(next, client.fetchState("job", 4, null));
        }
    }

    @Test
    void aPrefetchDoesNotHideErrorsAndAFetchWithoutOneIsUnchanged() throws Exception {
        try (GrpcTensorPlane client = plane.client(Duration.ofSeconds(10))) {
            // two versions ahead: refused at once, and the fetch reports it as a plain fetch would
            client.prefetchState("job", 5, null);
            assertEquals(TensorPlaneException.Kind.STALE,
                    assertThrows(TensorPlaneException.class, () -> client.fetchState("job", 5, null)).kind());
            // a prefetch of another version is dropped; the fetch of the current one works
            client.prefetchState("job", 4, null);
            assertEquals(N, client.fetchState("job", 3, null).length);
        }
    }

    @Test
    void aParkedPrefetchEndsWithTheJob() throws Exception {
        CompletableFuture<Long> waiting = plane.exchange.whenPublished("job", 4);
        assertFalse(waiting.isDone());
        plane.exchange.endJob("job");
        ExecutionException e = assertThrows(ExecutionException.class, () -> waiting.get(1, TimeUnit.SECONDS));
        assertEquals(TensorPlaneException.Kind.NOT_FOUND, ((TensorPlaneException) e.getCause()).kind());
    }

    @Test
    void aSentGradientReachesTheExchange() throws Exception {
        float[] gradient = PlaneFixture.randomVector(N, 9);
        CompletableFuture<float[]> arrived = plane.exchange.awaitGradient("job", 3, 0, "w1");
        try (GrpcTensorPlane client = plane.client(Duration.ofSeconds(10))) {
            CompletableFuture<Void> ack = client.sendGradient("job", 3, 0, "w1", gradient);
            assertArrayEquals(gradient, arrived.get(10, TimeUnit.SECONDS));
            assertNull(ack.get(10, TimeUnit.SECONDS));
        }
        assertSame(arrived.get(), plane.exchange.gradient("job", 3, 0, "w1"));
    }

    @Test
    void aRejectedGradientIsReportedToWhoeverWaitsForIt() throws Exception {
        float[] tooShort = new float[N - 1];
        CompletableFuture<float[]> arrived = plane.exchange.awaitGradient("job", 3, 0, "w1");
        try (GrpcTensorPlane client = plane.client(Duration.ofSeconds(10))) {
            CompletableFuture<Void> ack = client.sendGradient("job", 3, 0, "w1", tooShort);
            ExecutionException e = assertThrows(ExecutionException.class, () -> arrived.get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("rejected"), e.getCause().getMessage());
            ExecutionException onWorker = assertThrows(ExecutionException.class, () -> ack.get(10, TimeUnit.SECONDS));
            assertEquals(TensorPlaneException.Kind.INVALID, ((TensorPlaneException) onWorker.getCause()).kind());
        }
        assertNull(plane.exchange.gradient("job", 3, 0, "w1"));
    }
}
