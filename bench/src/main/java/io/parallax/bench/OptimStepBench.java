package io.parallax.bench;

import io.parallax.bench.OptimizerCases.Case;
import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.optim.OptimizerState;
import io.parallax.engine.optim.Optimizers;
import io.parallax.engine.optim.ParameterGroups;
import io.parallax.engine.tensor.Tensor;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Prints the optimizer-step benchmark of issue 3: one step over a flat vector of 10 M parameters
 * (one trainable segment) for every optimizer, in GB/s of state touched
 * ({@link OptimizerCases}), on both entry points: {@code step(float[], float[])} (the
 * coordinator's master weights) and {@code step(Tensor, Tensor)} (a model's flat direct-buffer
 * tensors on the CPU backend). Next to them, in the same run, the machine's bandwidth for a plain
 * Java loop ({@link JavaStream}, STREAM's four kernels over arrays as long as the parameter
 * vector, before and after the optimizers); the target is each optimizer at ≥ 0.5 of it.
 * Run it through {@code bench/run-optim-bench.sh}.
 *
 * <p>Each figure is the median (and best) of several repetitions after a warm-up; the two paths
 * of one optimizer are timed in alternating repetitions so that load from other processes hits
 * both. The ratio to the machine uses the higher of the two STREAM medians, so a burst of load
 * during the STREAM runs cannot flatter the optimizers. Everything runs on one thread.
 *
 * <p>Options: {@code --params 10000000}, {@code --warmup-ms 1000}, {@code --rep-ms 250},
 * {@code --reps 7}, {@code --only SUBSTRING} (rows whose label contains it),
 * {@code --ftrl-pow} (adds FTRL with learning_rate_power −0.6, which is compute-bound).
 */
public final class OptimStepBench {

    /** The target: each optimizer at this fraction of the plain-loop bandwidth. */
    static final double TARGET = 0.5;

    private OptimStepBench() {}

    /** One table row: a case and its seconds per step on each path, per repetition. */
    private record Row(Case c, double[] arraySeconds, double[] tensorSeconds) {}

    public static void main(String[] args) {
        try {
            run(args);
        } catch (UnknownOption e) {
            UnknownOption.exit("OptimStepBench", e);
        }
    }

    private static void run(String[] args) {
        int n = 10_000_000;
        long warmupMs = 1000;
        long repMs = 250;
        int reps = 7;
        String only = null;
        boolean ftrlPow = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--params" -> n = Integer.parseInt(args[++i]);
                case "--warmup-ms" -> warmupMs = Long.parseLong(args[++i]);
                case "--rep-ms" -> repMs = Long.parseLong(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--only" -> only = args[++i];
                case "--ftrl-pow" -> ftrlPow = true;
                default -> throw new UnknownOption("unknown option " + args[i]
                        + " (known: --params, --warmup-ms, --rep-ms, --reps, --only, --ftrl-pow)");
            }
        }
        Repetitions timer = new Repetitions(warmupMs, repMs, reps);
        Backend backend = Backends.cpu();
        System.out.printf(Locale.ROOT, "# optimizer step over %,d parameters (one segment), 1 thread%n", n);
        System.out.printf(Locale.ROOT, "# %s, Java %s (%s), %d processors, max heap %d MiB%n", LocalDate.now(),
                System.getProperty("java.version"), System.getProperty("java.vm.name"),
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
        System.out.printf(Locale.ROOT, "# %d repetitions of ~%d ms after %d ms warm-up; median (best)%n", reps, repMs,
                warmupMs);

        JavaStream stream = new JavaStream(n);
        double[] streamBefore = streamRates(stream, timer, "before");

        SplittableRandom random = new SplittableRandom(3);
        float[] initialParams = new float[n];
        float[] grads = new float[n];
        for (int i = 0; i < n; i++) {
            initialParams[i] = (float) random.nextDouble(-0.1, 0.1);
            grads[i] = (float) random.nextDouble(-1, 1);
        }
        float[] params = new float[n];
        Tensor paramsTensor = Tensor.zeros(backend, n);
        Tensor gradsTensor = Tensor.of(backend, grads, n);
        ParameterGroups groups = ParameterGroups.single(n);

        List<Case> cases = new ArrayList<>(OptimizerCases.headline());
        if (ftrlPow) {
            cases.add(OptimizerCases.ftrlPow());
        }
        List<Row> rows = new ArrayList<>();
        for (Case c : cases) {
            if (only != null && !c.label().toLowerCase(Locale.ROOT).contains(only.toLowerCase(Locale.ROOT))) {
                continue;
            }
            System.arraycopy(initialParams, 0, params, 0, n);
            paramsTensor.copyFrom(initialParams);
            Optimizer onArrays = build(c, groups);
            Optimizer onTensors = build(c, groups);
            double[][] s = timer.secondsPerCallInterleaved(() -> onArrays.step(params, grads),
                    () -> onTensors.step(paramsTensor, gradsTensor));
            rows.add(new Row(c, s[0], s[1]));
            System.err.printf(Locale.ROOT, "  %-28s float[] %7.2f ms   tensor %7.2f ms%n", c.label(),
                    1e3 * Repetitions.median(s[0]), 1e3 * Repetitions.median(s[1]));
        }

        double[] streamAfter = streamRates(stream, timer, "after");
        double machine = 0;
        String machineKernel = "";
        for (int k = 0; k < streamBefore.length; k++) {
            for (double rate : new double[] {streamBefore[k], streamAfter[k]}) {
                if (rate > machine) {
                    machine = rate;
                    machineKernel = stream.kernels()[k].name();
                }
            }
        }
        printTable(rows, n, machine, machineKernel);
    }

    /** Builds one optimizer and checks its state holds the buffers the byte count assumes. */
    private static Optimizer build(Case c, ParameterGroups groups) {
        Optimizer o = Optimizers.create(c.name(), c.hyper(), groups);
        OptimizerState state = o.state();
        if (state.tensors().size() != c.buffers()) {
            throw new IllegalStateException(c.label() + " keeps state " + state.tensors().keySet()
                    + " but the byte count assumes " + c.buffers() + " buffers");
        }
        return o;
    }

    /**
     * Times the four STREAM kernels and the in-place loop, prints them, returns the four STREAM
     * medians in GB/s in kernel order.
     */
    private static double[] streamRates(JavaStream stream, Repetitions timer, String when) {
        JavaStream.Kernel[] kernels = stream.kernels();
        double[] medians = new double[kernels.length];
        System.out.printf(Locale.ROOT, "%n## plain Java loop over float[%,d] (STREAM kernels, %s the optimizers)%n%n",
                stream.length(), when);
        System.out.println("| kernel | B/element | ms | GB/s |");
        System.out.println("|---|---:|---:|---:|");
        for (int k = 0; k < kernels.length; k++) {
            medians[k] = timeKernel(kernels[k], stream.length(), timer);
        }
        timeKernel(stream.inPlace(), stream.length(), timer);
        return medians;
    }

    /** Times one kernel, prints its row, returns its median GB/s. */
    private static double timeKernel(JavaStream.Kernel kernel, int n, Repetitions timer) {
        double[] s = timer.secondsPerCall(kernel.run());
        double bytes = (double) kernel.bytesPerElement() * n;
        System.out.printf(Locale.ROOT, "| %s | %d | %s | %s |%n", kernel.name(), kernel.bytesPerElement(), millis(s),
                rate(bytes, s));
        return bytes / Repetitions.median(s) / 1e9;
    }

    private static void printTable(List<Row> rows, int n, double machine, String machineKernel) {
        System.out.printf(Locale.ROOT, "%n## optimizer step, %,d parameters; machine bandwidth for a plain Java loop "
                + "%.1f GB/s (best STREAM median: %s); target ≥ %.1f × = %.1f GB/s%n%n", n, machine, machineKernel,
                TARGET, TARGET * machine);
        System.out.println("| optimizer | B/param | float[] ms | float[] GB/s | float[] / machine "
                + "| tensor ms | tensor GB/s | tensor / machine | target |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---|");
        for (Row r : rows) {
            double bytes = (double) r.c().bytesPerParameter() * n;
            double arrayRate = bytes / Repetitions.median(r.arraySeconds()) / 1e9;
            double tensorRate = bytes / Repetitions.median(r.tensorSeconds()) / 1e9;
            double worst = Math.min(arrayRate, tensorRate) / machine;
            System.out.printf(Locale.ROOT, "| %s | %d | %s | %s | %.2f | %s | %s | %.2f | %s |%n", r.c().label(),
                    r.c().bytesPerParameter(), millis(r.arraySeconds()), rate(bytes, r.arraySeconds()),
                    arrayRate / machine, millis(r.tensorSeconds()), rate(bytes, r.tensorSeconds()),
                    tensorRate / machine, worst >= TARGET ? "met" : "**missed**");
        }
    }

    private static String millis(double[] seconds) {
        return String.format(Locale.ROOT, "%.2f (%.2f)", 1e3 * Repetitions.median(seconds),
                1e3 * Repetitions.best(seconds));
    }

    private static String rate(double bytes, double[] seconds) {
        return String.format(Locale.ROOT, "%.1f (%.1f)", bytes / Repetitions.median(seconds) / 1e9,
                bytes / Repetitions.best(seconds) / 1e9);
    }
}
