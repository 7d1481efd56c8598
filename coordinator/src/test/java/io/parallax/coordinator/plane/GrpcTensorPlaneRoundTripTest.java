package io.parallax.coordinator.plane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.parallax.coordinator.plane.PlaneFixture.Transport;
import io.parallax.worker.plane.GrpcTensorPlane;
import io.parallax.worker.plane.TensorPlaneException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Vectors survive the gRPC tensor plane bit for bit, both ways, over real Netty on loopback
 * and in process — including one of 12 MB, three times gRPC's 4 MiB message limit.
 */
class GrpcTensorPlaneRoundTripTest {

    static Stream<Arguments> transportsAndSizes() {
        List<Arguments> cases = new ArrayList<>();
        for (Transport t : Transport.values()) {
            for (int n : new int[] {0, 1, 1000, 262_145, 3_000_000}) {
                cases.add(Arguments.of(t, n));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}, {1} floats")
    @MethodSource("transportsAndSizes")
    void stateAndGradientRoundTrip(Transport transport, int n) throws Exception {
        try (PlaneFixture plane = new PlaneFixture(transport); GrpcTensorPlane client = plane.client()) {
            float[] state = PlaneFixture.randomVector(n, 1);
            plane.exchange.publishState("job", 4, state);

            float[] fetched = client.fetchState("job", 4, null);
            assertArrayEquals(state, fetched);
            assertNotSame(state, fetched, "over gRPC the worker gets its own copy");

            float[] gradient = PlaneFixture.randomVector(n, 2);
            client.pushGradient("job", 4, 1, "w0", gradient);
            assertArrayEquals(gradient, plane.exchange.gradient("job", 4, 1, "w0"));
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void fetchFillsTheCallersArrayWhenItsLengthFits(Transport transport) throws Exception {
        try (PlaneFixture plane = new PlaneFixture(transport); GrpcTensorPlane client = plane.client()) {
            float[] state = PlaneFixture.randomVector(300_000, 3);
            plane.exchange.publishState("job", 0, state);

            float[] mine = new float[state.length];
            assertSame(mine, client.fetchState("job", 0, mine));
            assertArrayEquals(state, mine);

            float[] wrongLength = new float[state.length - 1];
            float[] fresh = client.fetchState("job", 0, wrongLength);
            assertNotSame(wrongLength, fresh);
            assertArrayEquals(state, fresh);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void threeWorkersPushAtOnce(Transport transport) throws Exception {
        int n = 1_000_000;
        int workers = 3;
        try (PlaneFixture plane = new PlaneFixture(transport)) {
            plane.exchange.publishState("job", 7, new float[n]);
            float[][] gradients = new float[workers][];
            List<GrpcTensorPlane> clients = new ArrayList<>();
            List<Callable<Void>> pushes = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                gradients[w] = PlaneFixture.randomVector(n, 10 + w);
                GrpcTensorPlane client = plane.client();
                clients.add(client);
                float[] g = gradients[w];
                String name = "w" + w;
                pushes.add(() -> {
                    for (int attempt = 0; attempt < 3; attempt++) { // interleave several streams per worker
                        client.pushGradient("job", 7, attempt, name, g);
                    }
                    return null;
                });
            }
            ExecutorService pool = Executors.newFixedThreadPool(workers);
            try {
                for (Future<Void> f : pool.invokeAll(pushes)) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
                clients.forEach(GrpcTensorPlane::close);
            }
            for (int w = 0; w < workers; w++) {
                for (int attempt = 0; attempt < 3; attempt++) {
                    assertArrayEquals(gradients[w], plane.exchange.gradient("job", 7, attempt, "w" + w),
                            "worker " + w + ", attempt " + attempt);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void smallChunksAssembleTheSameVector(Transport transport) throws Exception {
        try (PlaneFixture plane = new PlaneFixture(transport);
                GrpcTensorPlane client = new GrpcTensorPlane(plane.channel, Duration.ofSeconds(10), 12)) {
            float[] gradient = PlaneFixture.randomVector(1001, 4); // 333 chunks of 3 floats and one of 2
            plane.exchange.publishState("job", 0, new float[gradient.length]);
            client.pushGradient("job", 0, 0, "w", gradient);
            assertArrayEquals(gradient, plane.exchange.gradient("job", 0, 0, "w"));
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aGradientOfTheWrongLengthIsRefused(Transport transport) throws Exception {
        try (PlaneFixture plane = new PlaneFixture(transport); GrpcTensorPlane client = plane.client()) {
            plane.exchange.publishState("job", 0, new float[10]);
            TensorPlaneException e = assertThrows(TensorPlaneException.class,
                    () -> client.pushGradient("job", 0, 0, "w", new float[11]));
            assertEquals(TensorPlaneException.Kind.INVALID, e.kind());
        }
    }
}
