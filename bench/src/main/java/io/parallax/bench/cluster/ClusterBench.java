package io.parallax.bench.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.parallax.bench.UnknownOption;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Issue 4's benchmark: training-loop samples/s of the Fashion-MNIST job (784-256-128-10, Adam)
 * for {@code trainer local} with 1 and 2 workers, a coordinator and 2 worker processes on
 * 127.0.0.1, and PyTorch on 1 thread and on 2 threads with {@code OMP_WAIT_POLICY=passive},
 * each at the given global batch sizes; every command runs with {@code OPENBLAS_CORETYPE} and
 * {@code OPENBLAS_L2_SIZE} unset (OpenBLAS picks its kernels itself, as for the peer). The
 * settings run round-robin, {@code --reps} times, so that the load of a shared machine spreads
 * over all of them; the table gives medians with the range. Prints a markdown table.
 *
 * <p>Every setting, PyTorch included, trains {@code --epochs} epochs (default 3) and is measured
 * by its last epoch, so that both sides are compared warmed up (the JVM's JIT, PyTorch's
 * allocator caches); the first epoch's figure is shown beside it. For the cluster the table also
 * gives the tensor plane's bytes and time per step and where a step's time goes.
 *
 * <pre>
 * ClusterBench --root REPO [--batches 128,512] [--reps 3] [--epochs 3] [--port 26551]
 *              [--only local1,local2,cluster,torch1,torch2]
 * </pre>
 */
public final class ClusterBench {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PYTHON = "/usr/bin/python3";
    private static final String TORCH_SCRIPT = "/work/shared/baselines/torch_fmnist.py";
    private static final Pattern TORCH_EPOCH = Pattern.compile("^epoch \\d+: .* samples_per_s=(\\d+)", Pattern.MULTILINE);
    private static final List<String> SETTINGS = List.of("local1", "local2", "cluster", "torch1", "torch2");

    private final Path root;
    private final Path work;
    private final int epochs;
    private int port;

    private ClusterBench(Path root, Path work, int epochs, int port) {
        this.root = root;
        this.work = work;
        this.epochs = epochs;
        this.port = port;
    }

    /** One run's figures; NaN where the setting has none. */
    private record Run(double samplesPerSecond, double firstEpoch, Map<String, Double> phases) {}

    public static void main(String[] args) throws Exception {
        try {
            run(args);
        } catch (UnknownOption e) {
            UnknownOption.exit("ClusterBench", e);
        }
    }

    private static void run(String[] args) throws Exception {
        Path root = Path.of(".");
        List<Integer> batches = List.of(128, 512);
        int reps = 3;
        int epochs = 3;
        int port = 26551;
        List<String> only = SETTINGS;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--root" -> root = Path.of(args[++i]);
                case "--batches" -> batches = Arrays.stream(args[++i].split(",")).map(Integer::valueOf).toList();
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--epochs" -> epochs = Integer.parseInt(args[++i]);
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--only" -> only = List.of(args[++i].split(","));
                default -> throw new UnknownOption("unknown option " + args[i]);
            }
        }
        Path work = Files.createTempDirectory("cluster-bench");
        ClusterBench bench = new ClusterBench(root.toAbsolutePath().normalize(), work, epochs, port);
        Map<String, List<Run>> runs = new LinkedHashMap<>();
        String started = ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        for (int rep = 0; rep < reps; rep++) {
            for (int batch : batches) {
                for (String setting : only) {
                    Run r = bench.run(setting, batch);
                    System.err.printf(Locale.ROOT, "rep %d batch %d %-8s %,.0f samples/s%n", rep + 1, batch, setting,
                            r.samplesPerSecond());
                    runs.computeIfAbsent(batch + "/" + setting, k -> new ArrayList<>()).add(r);
                }
            }
        }
        bench.print(started, batches, only, runs, reps);
    }

    private Run run(String setting, int batch) throws IOException, InterruptedException {
        return switch (setting) {
            case "local1" -> local(batch, 1);
            case "local2" -> local(batch, 2);
            case "cluster" -> cluster(batch);
            case "torch1" -> torch(batch, List.of("--threads", "1"));
            case "torch2" -> torch(batch, List.of("--threads", "2", "--omp-wait", "passive"));
            default -> throw new IllegalArgumentException("unknown setting " + setting + "; one of " + SETTINGS);
        };
    }

    private Path job(int batch) throws IOException {
        Path file = work.resolve("fmnist-b" + batch + "-e" + epochs + ".json");
        if (!Files.exists(file)) {
            ObjectNode spec = (ObjectNode) JSON.readTree(root.resolve("examples/fashion-mnist.json").toFile());
            spec.put("batch_size", batch);
            spec.put("epochs", epochs);
            Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(spec));
        }
        return file;
    }

    private Run local(int batch, int workers) throws IOException, InterruptedException {
        Path metrics = work.resolve("local.jsonl");
        Files.deleteIfExists(metrics);
        Process p = start(List.of(root.resolve("deploy/trainer").toString(), "local", "--job", job(batch).toString(),
                "--workers", String.valueOf(workers), "--metrics-out", metrics.toString()), work.resolve("local.log"));
        await(p, "trainer local", 600);
        return fromMetrics(metrics);
    }

    private Run cluster(int batch) throws IOException, InterruptedException {
        Path metrics = work.resolve("cluster.jsonl");
        Files.deleteIfExists(metrics);
        int akka = port++;
        int grpc = akka + 1000;
        String trainer = root.resolve("deploy/trainer").toString();
        Process coordinator = start(List.of(trainer, "coordinator", "--port", String.valueOf(akka), "--grpc-port",
                String.valueOf(grpc), "--job", job(batch).toString(), "--workers", "2", "--metrics-out",
                metrics.toString(), "--state-dir", work.resolve("state-" + akka).toString()), work.resolve("coordinator.log"));
        List<Process> workers = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                workers.add(start(List.of(trainer, "worker", "--join", "127.0.0.1:" + akka),
                        work.resolve("worker" + i + ".log")));
            }
            await(coordinator, "trainer coordinator", 900);
        } finally {
            for (Process w : workers) {
                w.destroy();
            }
            for (Process w : workers) {
                if (!w.waitFor(20, TimeUnit.SECONDS)) {
                    w.destroyForcibly();
                }
            }
        }
        return fromMetrics(metrics);
    }

    private Run torch(int batch, List<String> threads) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(PYTHON, TORCH_SCRIPT, "--opt", "adam", "--batch",
                String.valueOf(batch), "--epochs", String.valueOf(epochs), "--openblas-coretype", "auto"));
        command.addAll(threads);
        Path log = work.resolve("torch.log");
        await(start(command, log), "PyTorch", 600);
        Matcher m = TORCH_EPOCH.matcher(Files.readString(log, StandardCharsets.UTF_8));
        List<Double> perEpoch = new ArrayList<>();
        while (m.find()) {
            perEpoch.add(Double.parseDouble(m.group(1)));
        }
        if (perEpoch.size() != epochs) {
            throw new IOException("PyTorch printed samples_per_s for " + perEpoch.size() + " epoch(s), expected "
                    + epochs + ", see " + log);
        }
        return new Run(perEpoch.get(perEpoch.size() - 1), perEpoch.get(0), Map.of());
    }

    private Process start(List<String> command, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(root.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        // OpenBLAS chooses its kernels itself, for us as for the peer (../shared/BASELINE.md)
        pb.environment().remove("OPENBLAS_CORETYPE");
        pb.environment().remove("OPENBLAS_L2_SIZE");
        return pb.start();
    }

    private static void await(Process p, String what, int seconds) throws IOException, InterruptedException {
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(what + " did not finish within " + seconds + " s");
        }
        if (p.exitValue() != 0) {
            throw new IOException(what + " exited with " + p.exitValue());
        }
    }

    private Run fromMetrics(Path metrics) throws IOException {
        List<String> lines = Files.readAllLines(metrics).stream().filter(l -> !l.isBlank()).toList();
        if (lines.size() != epochs) {
            throw new IOException(metrics + " has " + lines.size() + " epochs, expected " + epochs);
        }
        JsonNode first = JSON.readTree(lines.get(0));
        JsonNode last = JSON.readTree(lines.get(lines.size() - 1));
        Map<String, Double> phases = new LinkedHashMap<>();
        for (String k : List.of("plane_bytes_per_step", "plane_ms_per_step", "step_ms", "wait_ms", "fetch_ms",
                "compute_ms", "push_ms", "sum_ms", "update_ms")) {
            phases.put(k, last.path(k).asDouble(Double.NaN));
        }
        return new Run(last.get("samples_per_second").asDouble(), first.get("samples_per_second").asDouble(), phases);
    }

    private void print(String started, List<Integer> batches, List<String> settings, Map<String, List<Run>> runs,
                       int reps) {
        System.out.printf("Started %s; %d repetition(s), round-robin; medians (min–max).%n%n", started, reps);
        System.out.println("| batch | setting | samples/s | 1st epoch samples/s | plane bytes/step | plane ms/step "
                + "| step ms | wait | fetch | compute | push | sum | update |");
        System.out.println("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (int batch : batches) {
            for (String setting : settings) {
                List<Run> rs = runs.get(batch + "/" + setting);
                double[] sps = rs.stream().mapToDouble(Run::samplesPerSecond).toArray();
                StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %d | %s | %,.0f (%,.0f–%,.0f) | %s |",
                        batch, label(setting), median(sps), min(sps), max(sps),
                        String.format(Locale.ROOT, "%,.0f", median(rs.stream().mapToDouble(Run::firstEpoch).toArray()))));
                for (String k : List.of("plane_bytes_per_step", "plane_ms_per_step", "step_ms", "wait_ms", "fetch_ms",
                        "compute_ms", "push_ms", "sum_ms", "update_ms")) {
                    double v = median(rs.stream().mapToDouble(r -> r.phases().getOrDefault(k, Double.NaN)).toArray());
                    row.append(Double.isNaN(v) ? " – |" : k.equals("plane_bytes_per_step")
                            ? String.format(Locale.ROOT, " %,.0f |", v) : String.format(Locale.ROOT, " %.2f |", v));
                }
                System.out.println(row);
            }
        }
        System.out.println();
        for (int batch : batches) {
            double local2 = medianOf(runs, batch, "local2");
            double cluster = medianOf(runs, batch, "cluster");
            double torch = Math.max(medianOf(runs, batch, "torch1"), medianOf(runs, batch, "torch2"));
            System.out.printf(Locale.ROOT, "batch %d: local 2 workers / PyTorch best = %.2f (target ≥ 1.3); "
                    + "cluster / local 2 workers = %.2f (target ≥ 0.8)%n", batch, local2 / torch, cluster / local2);
        }
    }

    private static double medianOf(Map<String, List<Run>> runs, int batch, String setting) {
        List<Run> rs = runs.get(batch + "/" + setting);
        return rs == null ? Double.NaN : median(rs.stream().mapToDouble(Run::samplesPerSecond).toArray());
    }

    private static String label(String setting) {
        return switch (setting) {
            case "local1" -> "`trainer local`, 1 worker";
            case "local2" -> "`trainer local`, 2 workers";
            case "cluster" -> "coordinator + 2 worker processes (loopback)";
            case "torch1" -> "PyTorch, 1 thread";
            case "torch2" -> "PyTorch, 2 threads, OMP passive";
            default -> setting;
        };
    }

    private static double median(double[] values) {
        double[] v = Arrays.stream(values).filter(x -> !Double.isNaN(x)).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElse(Double.NaN);
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElse(Double.NaN);
    }
}
