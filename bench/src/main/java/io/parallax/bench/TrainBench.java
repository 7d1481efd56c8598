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
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The training-loop benchmark: {@link Trainer} (shuffle, batch gather, forward, cross-entropy,
 * backward, Adam lr 1e-3) on Fashion-MNIST with the 784-256-128-10 ReLU MLP, in training
 * samples/s as {@link EpochResult#samplesPerSecond()} measures it (the loop alone: no data
 * loading, no evaluation), next to {@code ../shared/baselines/torch_fmnist.py}. Run it through
 * {@code bench/run-train-bench.sh}, which alternates our runs and PyTorch's in rounds (one
 * process each) and then prints the table with {@code --summarize}.
 *
 * <p>Three modes:
 * <ul>
 *   <li>{@code --batch B [--epochs 3] [--seed 0] [--data DIR]}: one run; prints one line per
 *       epoch in torch_fmnist.py's format ({@code epoch N: ... samples_per_s=X}), so both sides'
 *       logs read alike. Epoch 1 includes the JIT's warm-up (a cold JVM, as a user's run).</li>
 *   <li>{@code --summarize DIR}: reads {@code DIR/<setting>/r<round>-b<batch>.log} (setting
 *       {@code ours} first, then the others; a file {@code DIR/<setting>/label} names a setting)
 *       and prints the table.</li>
 *   <li>{@code --phases STEPS [--reps 11] [--batches 128,512]}: the per-phase split of
 *       {@link TrainLoopProfile}, over repetitions of STEPS steps.</li>
 * </ul>
 */
public final class TrainBench {

    private TrainBench() {}

    public static void main(String[] args) throws Exception {
        try {
            run(args);
        } catch (UnknownOption e) {
            UnknownOption.exit("TrainBench", e);
        }
    }

    private static void run(String[] args) throws Exception {
        Path data = Path.of("/usr/share/datasets/fashion-mnist");
        int[] batches = {128, 512};
        int batch = 0;
        int epochs = 3;
        long seed = 0;
        int phaseSteps = 0;
        int phaseReps = 11;
        Path summarize = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--data" -> data = Path.of(args[++i]);
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--batches" -> batches = Arrays.stream(args[++i].split(",")).map(String::trim)
                        .mapToInt(Integer::parseInt).toArray();
                case "--epochs" -> epochs = Integer.parseInt(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--phases" -> phaseSteps = Integer.parseInt(args[++i]);
                case "--reps" -> phaseReps = Integer.parseInt(args[++i]);
                case "--summarize" -> summarize = Path.of(args[++i]);
                default -> throw new UnknownOption("unknown option " + args[i]
                        + " (known: --data, --batch, --batches, --epochs, --seed, --phases, --reps, --summarize)");
            }
        }
        if (summarize != null) {
            TrainTable.print(summarize, System.out);
            return;
        }
        Backend backend = Backends.cpu();
        Dataset train = IdxReader.readDataset(data.resolve("train-images-idx3-ubyte.gz"),
                data.resolve("train-labels-idx1-ubyte.gz"), 10);
        if (phaseSteps > 0) {
            for (int b : batches) {
                Sequential model = mlp(backend, seed);
                Optimizer adam = Adam.builder().lr(1e-3).build(ParameterGroups.of(model));
                System.out.print(new TrainLoopProfile(model, adam, train, b, seed).run(phaseSteps, phaseReps));
            }
            return;
        }
        if (batch < 1) {
            throw new IllegalArgumentException("give --batch B (one run), --summarize DIR or --phases STEPS");
        }
        Dataset test = IdxReader.readDataset(data.resolve("t10k-images-idx3-ubyte.gz"),
                data.resolve("t10k-labels-idx1-ubyte.gz"), 10);
        run(backend, train, test, batch, epochs, seed, System.out);
    }

    /** One cold run of the Trainer, printed as torch_fmnist.py prints its epochs. */
    private static void run(Backend backend, Dataset train, Dataset test, int batch, int epochs, long seed,
                            PrintStream out) {
        Sequential model = mlp(backend, seed);
        Optimizer adam = Adam.builder().lr(1e-3).build(ParameterGroups.of(model));
        out.printf(Locale.ROOT, "parallax Java %s blas_threads=%d OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s%n",
                System.getProperty("java.version"), backend.threads(), envOrUnset("OPENBLAS_CORETYPE"),
                envOrUnset("OPENBLAS_L2_SIZE"));
        out.printf(Locale.ROOT, "model 784-256-128-10 params=%d opt=%s batch=%d epochs=%d seed=%d%n",
                model.parameterCount(), adam, batch, epochs, seed);
        Trainer trainer = new Trainer(model, new CrossEntropyLoss(), adam, TrainingConfig.of(epochs, batch, seed));
        trainer.fit(train, test, r -> out.printf(Locale.ROOT,
                "epoch %d: train_loss=%.4f test_acc=%.4f train_s=%.3f samples_per_s=%.0f%n", r.epoch() + 1,
                r.trainLoss(), r.validation().accuracy(), r.trainSeconds(), r.samplesPerSecond()));
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

    private static String envOrUnset(String name) {
        String v = System.getenv(name);
        return v == null ? "(unset)" : v;
    }

    /** Lists the round logs of one setting and batch, in round order. */
    static List<Path> logs(Path settingDir, int batch) throws IOException {
        try (var files = Files.list(settingDir)) {
            return files.filter(p -> p.getFileName().toString().matches("r\\d+-b" + batch + "\\.log")).sorted()
                    .toList();
        }
    }
}
