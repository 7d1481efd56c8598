package io.parallax.bench;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Prints the training-step benchmark of issue 2: one step (forward, cross-entropy, backward; no
 * optimizer) of a 784-256-128-10 ReLU MLP on the CPU backend, per batch size, next to the raw
 * {@code cblas_sgemm} calls of that step ({@link RawGemmStep}) and, when given its results file,
 * PyTorch's step ({@code bench/torch_step.py}). Run it through {@code bench/run-step-bench.sh}.
 *
 * <p>Rates: "nominal" GFLOP/s count 180 MFLOP per step at batch 128, scaled linearly with the
 * batch (forward 60 + backward 120, i.e. including the first layer's input gradient, which no
 * one computes); "GEMM" GFLOP/s count the flops of the products actually performed. The step and
 * the GEMMs are timed in alternating repetitions so that load from other processes hits both.
 *
 * <p>Options: {@code --batches 32,128,512}, {@code --warmup-ms 2000}, {@code --rep-ms 200},
 * {@code --reps 11}, {@code --torch FILE}, {@code --phases} (adds a per-phase time split).
 */
public final class StepBench {

    static final int[] WIDTHS = {784, 256, 128, 10};
    static final double NOMINAL_FLOPS_AT_128 = 180e6;

    private StepBench() {}

    public static void main(String[] args) throws Exception {
        try {
            run(args);
        } catch (UnknownOption e) {
            UnknownOption.exit("StepBench", e);
        }
    }

    private static void run(String[] args) throws Exception {
        int[] batches = {32, 128, 512};
        long warmupMs = 2000;
        long repMs = 200;
        int reps = 11;
        Path torchFile = null;
        boolean phases = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--batches" -> batches = parseInts(args[++i]);
                case "--warmup-ms" -> warmupMs = Long.parseLong(args[++i]);
                case "--rep-ms" -> repMs = Long.parseLong(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--torch" -> torchFile = Path.of(args[++i]);
                case "--phases" -> phases = true;
                default -> throw new UnknownOption("unknown option " + args[i]
                        + " (known: --batches, --warmup-ms, --rep-ms, --reps, --torch, --phases)");
            }
        }
        Backend backend = Backends.cpu();
        TorchResults torch = torchFile == null ? null : TorchResults.read(torchFile);
        Repetitions timer = new Repetitions(warmupMs, repMs, reps);

        System.out.printf(Locale.ROOT, "# training step, MLP %s, ReLU, cross-entropy, no optimizer%n", widths());
        System.out.printf(Locale.ROOT, "# %s, Java %s, BLAS threads %d, OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s%n",
                LocalDate.now(), System.getProperty("java.version"), backend.threads(),
                envOrUnset("OPENBLAS_CORETYPE"), envOrUnset("OPENBLAS_L2_SIZE"));
        System.out.printf(Locale.ROOT, "# %d repetitions of ~%d ms after %d ms warm-up; median (best)%s%n", reps,
                repMs, warmupMs, torch == null ? "" : "; PyTorch " + torch.version() + " from " + torchFile);
        System.out.println();

        List<String> rows = new ArrayList<>();
        List<String> profiles = new ArrayList<>();
        for (int batch : batches) {
            MlpStep step = new MlpStep(backend, batch, WIDTHS);
            RawGemmStep gemms = new RawGemmStep(batch, WIDTHS);
            double[][] t = timer.secondsPerCallInterleaved(step::run, gemms::run);
            rows.add(row(batch, t[0], t[1], gemms.flops(), torch == null ? null : torch.secondsPerStep(batch)));
            if (!Double.isFinite(step.lastLoss())) {
                throw new IllegalStateException("the step's loss is " + step.lastLoss());
            }
            if (phases) {
                profiles.add(profile(batch, step, timer) + kernels(batch, backend, gemms, t[1]));
            }
        }
        System.out.println("| batch | step ms | step GFLOP/s (nominal) | step samples/s | GEMMs ms "
                + "| GEMMs GFLOP/s (actual) | GEMMs / step | PyTorch ms | PyTorch samples/s | ours / PyTorch |");
        System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        rows.forEach(System.out::println);
        profiles.forEach(System.out::print);
    }

    private static String row(int batch, double[] step, double[] gemm, double gemmFlops, double[] torch) {
        double nominal = NOMINAL_FLOPS_AT_128 * batch / 128;
        double sMed = Repetitions.median(step);
        double sBest = Repetitions.best(step);
        double gMed = Repetitions.median(gemm);
        double gBest = Repetitions.best(gemm);
        String torchCols = " – | – | – |";
        if (torch != null) {
            double tMed = Repetitions.median(torch);
            double tBest = Repetitions.best(torch);
            torchCols = String.format(Locale.ROOT, " %.3f (%.3f) | %,.0f (%,.0f) | %.2f (%.2f) |", tMed * 1e3,
                    tBest * 1e3, batch / tMed, batch / tBest, tMed / sMed, tBest / sBest);
        }
        return String.format(Locale.ROOT,
                "| %d | %.3f (%.3f) | %.1f (%.1f) | %,.0f (%,.0f) | %.3f (%.3f) | %.1f (%.1f) | %.2f (%.2f) |%s",
                batch, sMed * 1e3, sBest * 1e3, nominal / sMed / 1e9, nominal / sBest / 1e9, batch / sMed,
                batch / sBest, gMed * 1e3, gBest * 1e3, gemmFlops / gMed / 1e9, gemmFlops / gBest / 1e9,
                gMed / sMed, gBest / sBest, torchCols);
    }

    /** Median microseconds per phase over the repetitions, with each phase's share of the step. */
    private static String profile(int batch, MlpStep step, Repetitions timer) {
        List<String> names = step.phaseNames();
        int phases = names.size();
        List<long[]> perRep = new ArrayList<>();
        long[][] current = {new long[phases]};
        double[] whole = timer.secondsPerCall(() -> step.runProfiled(current[0]));
        // the warm-up and calibration ran into the same counters: start fresh and collect one
        // repetition of ~200 ms per entry of `whole`
        int callsPerRep = Math.max(1, (int) Math.round(0.2 / Repetitions.median(whole)));
        for (int r = 0; r < whole.length; r++) {
            current[0] = new long[phases];
            for (int i = 0; i < callsPerRep; i++) {
                step.runProfiled(current[0]);
            }
            perRep.add(current[0]);
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%nphases at batch %d (median µs per step over %d repetitions)%n",
                batch, perRep.size()));
        double total = 0;
        double[] medians = new double[phases];
        for (int p = 0; p < phases; p++) {
            double[] us = new double[perRep.size()];
            for (int r = 0; r < us.length; r++) {
                us[r] = perRep.get(r)[p] / 1e3 / callsPerRep;
            }
            medians[p] = Repetitions.median(us);
            total += medians[p];
        }
        for (int p = 0; p < phases; p++) {
            sb.append(String.format(Locale.ROOT, "  %-44s %9.1f  %5.1f%%%n", names.get(p), medians[p],
                    100 * medians[p] / total));
        }
        sb.append(String.format(Locale.ROOT, "  %-44s %9.1f%n", "total", total));
        return sb.toString();
    }

    /** The step's backend calls alone: GEMMs through the engine vs raw, bias adds, bias sums. */
    private static String kernels(int batch, Backend backend, RawGemmStep raw, double[] rawTimes) {
        StepKernels k = new StepKernels(backend, batch, WIDTHS);
        Repetitions quick = new Repetitions(500, 100, 7);
        double viaBackend = Repetitions.median(quick.secondsPerCall(k::gemms));
        double rawMedian = Repetitions.median(rawTimes);
        double adds = Repetitions.median(quick.secondsPerCall(k::biasAdds));
        double sums = Repetitions.median(quick.secondsPerCall(k::biasGrads));
        return String.format(Locale.ROOT, "  kernels alone: GEMMs via Backend.gemm %.1f µs (raw %.1f µs, run earlier),"
                + " bias adds %.1f µs, bias-gradient sums %.1f µs%n", viaBackend * 1e6, rawMedian * 1e6,
                adds * 1e6, sums * 1e6);
    }

    private static String widths() {
        StringBuilder sb = new StringBuilder();
        for (int w : WIDTHS) {
            sb.append(sb.length() == 0 ? "" : "-").append(w);
        }
        return sb.toString();
    }

    private static String envOrUnset(String name) {
        String v = System.getenv(name);
        return v == null ? "(unset)" : v;
    }

    private static int[] parseInts(String csv) {
        String[] parts = csv.split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Integer.parseInt(parts[i].trim());
            if (out[i] < 1) {
                throw new IllegalArgumentException("batch sizes must be ≥ 1, got " + out[i]);
            }
        }
        return out;
    }
}
