package io.parallax.bench;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.data.Dataset;
import io.parallax.engine.data.IdxReader;
import io.parallax.engine.layer.Layer;
import io.parallax.engine.layer.Linear;
import io.parallax.engine.layer.ReLU;
import io.parallax.engine.loss.CrossEntropyLoss;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.optim.Adam;
import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.optim.ParameterGroups;
import io.parallax.engine.train.EpochResult;
import io.parallax.engine.train.Trainer;
import io.parallax.engine.train.TrainingConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Prints the training-loop benchmark: {@link Trainer} (shuffle, batch gather, forward,
 * cross-entropy, backward, Adam lr 1e-3) on Fashion-MNIST with the 784-256-128-10 ReLU MLP, per
 * batch size, in training samples/s as {@link EpochResult#samplesPerSecond()} measures it (the
 * loop alone: no data loading, no evaluation), next to the logs of
 * {@code ../shared/baselines/torch_fmnist.py} for the same batch. Run it through
 * {@code bench/run-train-bench.sh}, which runs PyTorch first and passes its logs here.
 *
 * <p>Epoch 1 includes the JIT's warm-up (the JVM starts cold, as a user's run does); later
 * epochs show the steady state. PyTorch's epochs are reported the same way.
 *
 * <p>Options: {@code --data DIR}, {@code --batches 128,512}, {@code --epochs 3},
 * {@code --seed 0}, {@code --torch LABEL=DIR} (repeatable; reads {@code DIR/b<batch>.log}; the last '=' splits),
 * {@code --phases STEPS} (adds the per-phase split of {@link TrainLoopProfile} over that many
 * steps after the epochs).
 */
public final class TrainBench {

    private TrainBench() {}

    public static void main(String[] args) throws Exception {
        Path data = Path.of("/usr/share/datasets/fashion-mnist");
        int[] batches = {128, 512};
        int epochs = 3;
        long seed = 0;
        int phaseSteps = 0;
        List<String[]> torch = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--data" -> data = Path.of(args[++i]);
                case "--batches" -> batches = Arrays.stream(args[++i].split(",")).map(String::trim)
                        .mapToInt(Integer::parseInt).toArray();
                case "--epochs" -> epochs = Integer.parseInt(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--phases" -> phaseSteps = Integer.parseInt(args[++i]);
                case "--torch" -> {
                    // the label may hold '=' (an environment setting), the directory may not
                    int eq = args[++i].lastIndexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("--torch takes LABEL=DIR, got " + args[i]);
                    }
                    torch.add(new String[] {args[i].substring(0, eq), args[i].substring(eq + 1)});
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (known: --data, --batches, --epochs, --seed, --torch, --phases)");
            }
        }
        Backend backend = Backends.cpu();
        Dataset train = IdxReader.readDataset(data.resolve("train-images-idx3-ubyte.gz"),
                data.resolve("train-labels-idx1-ubyte.gz"), 10);
        Dataset test = IdxReader.readDataset(data.resolve("t10k-images-idx3-ubyte.gz"),
                data.resolve("t10k-labels-idx1-ubyte.gz"), 10);

        System.out.printf(Locale.ROOT, "# training loop, Fashion-MNIST (%d train rows), MLP 784-256-128-10, ReLU, "
                + "cross-entropy, Adam(lr=1e-3), %d epoch(s), seed %d%n", train.rows(), epochs, seed);
        System.out.printf(Locale.ROOT, "# %s, Java %s, BLAS threads %d, OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s%n",
                LocalDate.now(), System.getProperty("java.version"), backend.threads(),
                envOrUnset("OPENBLAS_CORETYPE"), envOrUnset("OPENBLAS_L2_SIZE"));
        for (String[] t : torch) {
            for (int batch : batches) {
                Path log = Path.of(t[1]).resolve("b" + batch + ".log");
                if (Files.exists(log)) {
                    System.out.printf(Locale.ROOT, "# PyTorch '%s', batch %d: %s%n", t[0], batch,
                            TorchTrainLogs.read(log).header());
                }
            }
        }
        System.out.println();

        List<String> rows = new ArrayList<>();
        List<String> profiles = new ArrayList<>();
        for (int batch : batches) {
            Sequential model = mlp(backend, seed);
            Optimizer adam = Adam.builder().lr(1e-3).build(ParameterGroups.of(model));
            Trainer trainer = new Trainer(model, new CrossEntropyLoss(), adam, TrainingConfig.of(epochs, batch, seed));
            List<EpochResult> results = trainer.fit(train, test, null);
            rows.add(row("ours (Trainer, 1 BLAS thread)", batch, rates(results), accuracies(results), null));
            for (String[] t : torch) {
                Path log = Path.of(t[1]).resolve("b" + batch + ".log");
                if (Files.exists(log)) {
                    TorchTrainLogs p = TorchTrainLogs.read(log);
                    rows.add(row("PyTorch, " + t[0], batch, p.samplesPerSecond(), p.testAccuracy(), rates(results)));
                }
            }
            if (phaseSteps > 0) {
                profiles.add(new TrainLoopProfile(model, adam, train, batch, seed).run(phaseSteps));
            }
        }
        System.out.println("| run | batch | epoch 1 samples/s | epochs 2+ samples/s (median, best) "
                + "| test acc. after epoch 1 / last | ours ÷ this, epoch 1 | ours ÷ this, epochs 2+ (median) |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|");
        rows.forEach(System.out::println);
        profiles.forEach(System.out::print);
    }

    /** The benchmark's model: PyTorch-default-initialised Linear layers with ReLU between. */
    static Sequential mlp(Backend backend, long seed) {
        int[] widths = StepBench.WIDTHS;
        List<Layer> layers = new ArrayList<>();
        for (int l = 0; l + 1 < widths.length; l++) {
            if (l > 0) {
                layers.add(new ReLU());
            }
            layers.add(new Linear(widths[l], widths[l + 1]));
        }
        return new Sequential(widths[0], layers, backend, seed);
    }

    private static double[] rates(List<EpochResult> results) {
        return results.stream().mapToDouble(EpochResult::samplesPerSecond).toArray();
    }

    private static double[] accuracies(List<EpochResult> results) {
        return results.stream().mapToDouble(r -> r.validation().accuracy()).toArray();
    }

    /** One table row; {@code ours} non-null adds the ratio columns (ours ÷ this run). */
    private static String row(String label, int batch, double[] rate, double[] acc, double[] ours) {
        double[] later = rate.length > 1 ? Arrays.copyOfRange(rate, 1, rate.length) : null;
        String laterCol = later == null ? "–" : String.format(Locale.ROOT, "%,.0f (%,.0f)",
                Repetitions.median(later), Arrays.stream(later).max().orElse(0));
        String ratio1 = "–";
        String ratio2 = "–";
        if (ours != null) {
            ratio1 = String.format(Locale.ROOT, "%.2f", ours[0] / rate[0]);
            if (later != null && ours.length > 1) {
                ratio2 = String.format(Locale.ROOT, "%.2f",
                        Repetitions.median(Arrays.copyOfRange(ours, 1, ours.length)) / Repetitions.median(later));
            }
        }
        return String.format(Locale.ROOT, "| %s | %d | %,.0f | %s | %.4f / %.4f | %s | %s |", label, batch, rate[0],
                laterCol, acc[0], acc[acc.length - 1], ratio1, ratio2);
    }

    private static String envOrUnset(String name) {
        String v = System.getenv(name);
        return v == null ? "(unset)" : v;
    }
}
