package io.parallax.engine.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.engine.backend.Backends;
import io.parallax.engine.data.Dataset;
import io.parallax.engine.data.IdxReader;
import io.parallax.engine.layer.Linear;
import io.parallax.engine.layer.ReLU;
import io.parallax.engine.loss.CrossEntropyLoss;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.optim.Optimizers;
import io.parallax.engine.optim.ParameterGroups;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every optimizer trains 784-256-128-10 (ReLU, PyTorch default init) on Fashion-MNIST for 3
 * epochs at batch 128 in one process, and the test accuracy (the 10,000 t10k images) reaches
 * the bar: ≥ 0.85 for Adam (lr 1e-3), ≥ 0.84 for SGD (lr 0.01, momentum 0.9), ≥ 0.80
 * for every other optimizer with the settings listed here. PyTorch reaches 0.857 / 0.849 with
 * the first two (../shared/BASELINE.md).
 *
 * <p>Data: Debian's dataset-fashion-mnist, which {@code deploy/ensure-test-deps.sh} installs
 * before the integration tests. Tagged slow: it runs in {@code mvn verify} (failsafe), not in
 * the quick unit-test loop.
 */
@Tag("slow")
class FashionMnistConvergenceTest {

    static final Path DATA = Path.of("/usr/share/datasets/fashion-mnist");

    private static Dataset train;
    private static Dataset test;

    @BeforeAll
    static void load() throws IOException {
        if (!Files.isRegularFile(DATA.resolve("train-images-idx3-ubyte.gz"))) {
            throw new IllegalStateException("Fashion-MNIST is not installed under " + DATA
                    + "; run deploy/ensure-test-deps.sh (apt-get install dataset-fashion-mnist)");
        }
        train = IdxReader.readDataset(DATA.resolve("train-images-idx3-ubyte.gz"),
                DATA.resolve("train-labels-idx1-ubyte.gz"), 10);
        test = IdxReader.readDataset(DATA.resolve("t10k-images-idx3-ubyte.gz"),
                DATA.resolve("t10k-labels-idx1-ubyte.gz"), 10);
    }

    static List<Arguments> optimizers() {
        return List.of(
                Arguments.of("adam", Map.of("lr", 1e-3), 0.85),
                Arguments.of("sgd", Map.of("lr", 0.01, "momentum", 0.9), 0.84),
                Arguments.of("sgd", Map.of("lr", 0.01, "momentum", 0.9, "nesterov", true), 0.80),
                Arguments.of("adamw", Map.of("lr", 1e-3, "weight_decay", 1e-2), 0.80),
                Arguments.of("adagrad", Map.of("lr", 0.01), 0.80),
                Arguments.of("adadelta", Map.of("lr", 1.0), 0.80),
                Arguments.of("rmsprop", Map.of("lr", 1e-3), 0.80),
                Arguments.of("adamax", Map.of("lr", 2e-3), 0.80),
                Arguments.of("nadam", Map.of("lr", 2e-3), 0.80),
                Arguments.of("ftrl", Map.of("learning_rate", 0.1), 0.80));
    }

    @ParameterizedTest(name = "{0} {1} reaches {2}")
    @MethodSource("optimizers")
    void reachesTheStatedTestAccuracyIn3Epochs(String name, Map<String, Object> hyper, double bar) {
        Sequential model = new Sequential(784, List.of(new Linear(784, 256), new ReLU(), new Linear(256, 128),
                new ReLU(), new Linear(128, 10)), Backends.cpu(), 0);
        Optimizer optimizer = Optimizers.create(name, hyper, ParameterGroups.of(model));
        Trainer trainer = new Trainer(model, new CrossEntropyLoss(), optimizer, TrainingConfig.of(3, 128, 0));
        List<EpochResult> epochs = trainer.fit(train, test, null);
        EpochResult last = epochs.get(epochs.size() - 1);
        System.out.printf(Locale.ROOT, "%-8s %-40s test accuracy %.4f %.4f %.4f  (%,.0f samples/s)%n", name, hyper,
                epochs.get(0).validation().accuracy(), epochs.get(1).validation().accuracy(),
                last.validation().accuracy(), last.samplesPerSecond());
        assertTrue(last.validation().accuracy() >= bar, name + " " + hyper + ": test accuracy "
                + last.validation().accuracy() + " after 3 epochs, expected ≥ " + bar);
    }
}
