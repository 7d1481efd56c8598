package io.parallax.engine.gradcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.layer.BinaryStep;
import io.parallax.engine.layer.ELU;
import io.parallax.engine.layer.ElementwiseActivation;
import io.parallax.engine.layer.ForwardContext;
import io.parallax.engine.layer.Layer;
import io.parallax.engine.layer.Layers;
import io.parallax.engine.layer.LeakyReLU;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.testing.GradientChecker;
import io.parallax.engine.testing.GradientReport;
import io.parallax.engine.testing.Objective;
import io.parallax.engine.testing.RandomTensors;
import io.parallax.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Finite-difference checks of every activation's input gradient, each built by name through
 * {@link Layers} (plus non-default LeakyReLU slope and ELU α), under three seeds. Inputs keep
 * |x| ≥ 0.1, ten times the step, so no difference straddles the kink at 0.
 */
class ActivationGradientTest {

    /** Activations by type name; softmax is not element-wise and is checked in LayerGradientTest. */
    static final List<String> ELEMENTWISE = List.of("relu", "leaky_relu", "elu", "sigmoid", "tanh", "swish",
            "identity", "binary_step");

    private final GradientChecker checker = new GradientChecker();

    protected Backend backend() {
        return Backends.cpu();
    }

    static Stream<Arguments> activations() {
        List<Arguments> cases = new ArrayList<>();
        List<Supplier<Layer>> makers = new ArrayList<>();
        for (String name : ELEMENTWISE) {
            makers.add(() -> Layers.activation(name));
        }
        makers.add(() -> new LeakyReLU(0.2f));
        makers.add(() -> new ELU(0.5f));
        for (Supplier<Layer> maker : makers) {
            for (long seed = 1; seed <= 3; seed++) {
                Layer probe = maker.get();
                cases.add(Arguments.of(probe.describe(), maker, seed));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}, seed {2}")
    @MethodSource("activations")
    void inputGradientMatchesFiniteDifferences(String name, Supplier<Layer> maker, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Layer layer = maker.get();
        Sequential m = new Sequential(5, List.of(layer), backend(), seed);
        Tensor x = RandomTensors.awayFromZero(backend(), rng, 0.1, 3.0, 6, 5);
        GradientReport r = checker.checkModel(m, x, new ForwardContext(true, seed, 0, null),
                Objective.weightedSum(seed)).assertPasses();
        if (layer instanceof BinaryStep) {
            // the step is flat on both sides of every input: the derivative is exactly 0, and
            // the analytic gradient must be exactly 0 too
            GradientReport.TensorCheck c = r.check("input");
            assertEquals(0.0, c.maxAbsNumeric(), r.toString());
            float[] dx = GradientChecker.inputGradient(m, x, ForwardContext.eval(), Objective.weightedSum(seed));
            for (float v : dx) {
                assertEquals(0f, v);
            }
        } else {
            r.assertNonTrivial(1e-2);
        }
    }

    /** A new activation type must join the list above, or this fails. */
    @Test
    void everyElementwiseActivationTypeIsChecked() {
        Set<String> checked = Set.copyOf(ELEMENTWISE);
        for (String type : Layers.TYPES) {
            Layer layer;
            try {
                layer = Layers.create(type, Map.of());
            } catch (IllegalArgumentException needsOptions) {
                continue; // linear, batch_norm1d: not activations
            }
            if (layer instanceof ElementwiseActivation) {
                assertTrue(checked.contains(type), type + " has no gradient check");
            }
        }
    }
}
