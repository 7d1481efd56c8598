package io.parallax.worker.plane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The in-process plane hands out the coordinator's arrays and waits for the version about to be published. */
class InProcessTensorPlaneTest {

    private final TensorExchange exchange = new TensorExchange();
    private final InProcessTensorPlane plane = new InProcessTensorPlane(exchange);

    private CompletableFuture<float[]> fetchLater(long version) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return plane.fetchState("job", version, null);
            } catch (TensorPlaneException e) {
                throw new CompletionException(e);
            }
        });
    }

    @Test
    void thePublishedVersionIsTheCoordinatorsOwnArray() throws TensorPlaneException {
        float[] three = new float[4];
        exchange.publishState("job", 3, three);
        assertSame(three, plane.fetchState("job", 3, null));
    }

    @Test
    void theNextVersionIsWaitedForAndHandedOutOncePublished() throws Exception {
        exchange.publishState("job", 3, new float[4]);
        CompletableFuture<float[]> fetched = fetchLater(4);
        Thread.sleep(100);
        assertFalse(fetched.isDone(), "answered before version 4 was published");
        float[] four = new float[4];
        exchange.publishState("job", 4, four);
        assertSame(four, fetched.get(10, TimeUnit.SECONDS));
    }

    @Test
    void aVersionFurtherAheadOrBehindIsStaleAtOnce() {
        exchange.publishState("job", 3, new float[4]);
        assertEquals(TensorPlaneException.Kind.STALE,
                assertThrows(TensorPlaneException.class, () -> plane.fetchState("job", 5, null)).kind());
        assertEquals(TensorPlaneException.Kind.STALE,
                assertThrows(TensorPlaneException.class, () -> plane.fetchState("job", 2, null)).kind());
    }

    @Test
    void aJobThatEndsWhileAWorkerWaitsReleasesItWithNotFound() throws Exception {
        exchange.publishState("job", 3, new float[4]);
        CompletableFuture<float[]> fetched = fetchLater(4);
        Thread.sleep(100);
        exchange.endJob("job");
        ExecutionException e = assertThrows(ExecutionException.class, () -> fetched.get(10, TimeUnit.SECONDS));
        TensorPlaneException why = assertInstanceOf(TensorPlaneException.class, e.getCause());
        assertEquals(TensorPlaneException.Kind.NOT_FOUND, why.kind());
    }
}
