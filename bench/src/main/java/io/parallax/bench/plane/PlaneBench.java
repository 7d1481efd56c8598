package io.parallax.bench.plane;

import io.parallax.bench.Repetitions;
import io.parallax.coordinator.plane.TensorPlaneServer;
import io.parallax.coordinator.plane.TensorPlaneService;
import io.parallax.worker.plane.GrpcTensorPlane;
import io.parallax.worker.plane.TensorExchange;
import io.parallax.worker.plane.TensorPlaneException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The gRPC tensor plane over loopback: milliseconds and GB/s of one {@code fetchState} and one
 * {@code pushGradient} for each vector size and chunk size, the coordinator in a second JVM
 * (as in a cluster) unless {@code --same-jvm}. Prints a markdown table (see bench/README.md).
 *
 * <pre>
 * PlaneBench [--sizes 235146,10000000] [--chunk-kib 256,1024] [--reps 9] [--rep-ms 300]
 *            [--warmup-ms 4000] [--same-jvm]
 * PlaneBench serve --sizes … --chunk-kib K      (the coordinator side; prints "PORT p", serves until stdin closes)
 * </pre>
 */
public final class PlaneBench {

    private PlaneBench() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("serve")) {
            serve(args);
            return;
        }
        int[] sizes = ints(option(args, "--sizes", "235146,10000000"));
        int[] chunkKib = ints(option(args, "--chunk-kib", "256,1024"));
        // the warm-up is per configuration, and each chunk size starts a fresh server JVM: 1.5 s
        // left the first configuration measured still being compiled (2-4x slower than later)
        Repetitions timing = new Repetitions(Long.parseLong(option(args, "--warmup-ms", "4000")),
                Long.parseLong(option(args, "--rep-ms", "300")), Integer.parseInt(option(args, "--reps", "9")));
        boolean sameJvm = Arrays.asList(args).contains("--same-jvm");

        System.out.println("| floats | MB | chunk | fetch ms | fetch GB/s | push ms | push GB/s |");
        System.out.println("|---:|---:|---:|---:|---:|---:|---:|");
        for (int kib : chunkKib) {
            try (Coordinator coordinator = sameJvm ? Coordinator.inThisJvm(sizes, kib) : Coordinator.inChildJvm(sizes, kib);
                    GrpcTensorPlane plane = GrpcTensorPlane.connect("127.0.0.1", coordinator.port(),
                            Duration.ofSeconds(30), kib << 10)) {
                for (int n : sizes) {
                    float[] reuse = new float[n];
                    float[] gradient = vector(n, 2);
                    // alternating repetitions: a burst of load from other processes hits both alike
                    double[][] times = timing.secondsPerCallInterleaved(
                            () -> call(() -> plane.fetchState(job(n), 0, reuse)),
                            () -> call(() -> {
                                plane.pushGradient(job(n), 0, 0, "w0", gradient);
                                return null;
                            }));
                    double[] fetch = times[0];
                    double[] push = times[1];
                    double bytes = n * (double) Float.BYTES;
                    System.out.printf("| %,d | %.2f | %d KiB | %s | %s | %s | %s |%n", n, bytes / 1e6, kib,
                            ms(fetch), gbps(bytes, fetch), ms(push), gbps(bytes, push));
                }
            }
        }
    }

    /** The coordinator side: publishes a state of each size and serves until stdin closes. */
    private static void serve(String[] args) throws IOException, InterruptedException {
        try (Coordinator coordinator = Coordinator.inThisJvm(ints(option(args, "--sizes", "")),
                Integer.parseInt(option(args, "--chunk-kib", "1024")))) {
            System.out.println("PORT " + coordinator.port());
            System.out.flush();
            while (System.in.read() >= 0) {
                // the parent closes our stdin when it is done
            }
        }
    }

    /** A tensor-plane server with one published state per size, here or in a child JVM. */
    private interface Coordinator extends AutoCloseable {
        int port();

        @Override
        void close();

        static Coordinator inThisJvm(int[] sizes, int chunkKib) throws IOException {
            TensorExchange exchange = new TensorExchange();
            for (int n : sizes) {
                exchange.publishState(job(n), 0, vector(n, 1));
            }
            TensorPlaneServer server = new TensorPlaneServer(TensorPlaneServer.netty(new InetSocketAddress("127.0.0.1", 0)),
                    new TensorPlaneService(exchange, chunkKib << 10)).start();
            return new Coordinator() {
                @Override
                public int port() {
                    return server.port();
                }

                @Override
                public void close() {
                    server.shutdown(Duration.ofSeconds(5));
                }
            };
        }

        static Coordinator inChildJvm(int[] sizes, int chunkKib) throws IOException {
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), PlaneBench.class.getName(), "serve",
                    "--sizes", join(sizes), "--chunk-kib", Integer.toString(chunkKib)));
            Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            if (line == null || !line.startsWith("PORT ")) {
                child.destroy();
                throw new IOException("the coordinator process did not start: " + line);
            }
            int port = Integer.parseInt(line.substring(5).trim());
            return new Coordinator() {
                @Override
                public int port() {
                    return port;
                }

                @Override
                public void close() {
                    try {
                        child.getOutputStream().close();
                        child.waitFor();
                    } catch (IOException | InterruptedException e) {
                        child.destroy();
                    }
                }
            };
        }
    }

    private interface PlaneCall<T> {
        T run() throws TensorPlaneException;
    }

    private static <T> T call(PlaneCall<T> c) {
        try {
            return c.run();
        } catch (TensorPlaneException e) {
            throw new IllegalStateException(e.kind() + ": " + e.getMessage(), e);
        }
    }

    private static String job(int n) {
        return "n" + n;
    }

    private static float[] vector(int n, long seed) {
        Random random = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    private static String ms(double[] seconds) {
        return String.format("%.3f (%.3f)", Repetitions.median(seconds) * 1e3, Repetitions.best(seconds) * 1e3);
    }

    private static String gbps(double bytes, double[] seconds) {
        return String.format("%.2f (%.2f)", bytes / Repetitions.median(seconds) / 1e9, bytes / Repetitions.best(seconds) / 1e9);
    }

    private static String option(String[] args, String name, String fallback) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return fallback;
    }

    private static int[] ints(String csv) {
        return csv.isBlank() ? new int[0] : Arrays.stream(csv.split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
    }

    private static String join(int[] xs) {
        return String.join(",", Arrays.stream(xs).mapToObj(Integer::toString).toList());
    }
}
