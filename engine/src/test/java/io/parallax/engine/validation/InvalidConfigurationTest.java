package io.parallax.engine.validation;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.layer.BatchNorm1d;
import io.parallax.engine.layer.Dropout;
import io.parallax.engine.layer.Layers;
import io.parallax.engine.layer.Linear;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Impossible configurations fail when the layer or tensor is made, with an
 * {@link IllegalArgumentException} naming the layer and the bad value: dropout probabilities
 * outside [0, 1), negative or zero sizes, unknown layer and option names.
 */
class InvalidConfigurationTest {

    protected Backend backend() {
        return Backends.cpu();
    }

    @ParameterizedTest(name = "p = {0}")
    @ValueSource(floats = {-0.1f, 1f, 1.5f, Float.NaN, Float.POSITIVE_INFINITY})
    void dropoutProbabilityOutsideZeroToOne(float p) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Dropout(p));
        Messages.assertMentions(e, "Dropout", "[0, 1)", String.valueOf(p));
        IllegalArgumentException byName = assertThrows(IllegalArgumentException.class,
                () -> Layers.create("dropout", Map.of("p", (double) p)));
        Messages.assertMentions(byName, "Dropout", String.valueOf(p));
    }

    @Test
    void dropoutProbabilityZeroIsAllowedAndIsTheIdentity() {
        Sequential m = new Sequential(3, List.of(new Dropout(0f)), backend(), 1);
        Tensor x = Tensor.of(backend(), new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        org.junit.jupiter.api.Assertions.assertArrayEquals(x.toArray(), m.forward(x).toArray());
    }

    @Test
    void negativeOrZeroLinearSizes() {
        Messages.assertMentions(assertThrows(IllegalArgumentException.class, () -> new Linear(-1, 3)),
                "Linear", "in=-1");
        Messages.assertMentions(assertThrows(IllegalArgumentException.class, () -> new Linear(3, 0)),
                "Linear", "out=0");
        Messages.assertMentions(assertThrows(IllegalArgumentException.class,
                () -> Layers.create("linear", Map.of("in_features", -4, "out_features", 2))), "Linear", "-4");
    }

    @Test
    void negativeOrZeroBatchNormAndModelSizes() {
        Messages.assertMentions(assertThrows(IllegalArgumentException.class, () -> new BatchNorm1d(0)),
                "BatchNorm1d", "0");
        Messages.assertMentions(assertThrows(IllegalArgumentException.class,
                () -> new BatchNorm1d(4, -1e-5f, 0.1f, true)), "BatchNorm1d", "eps", "-1.0E-5");
        Messages.assertMentions(assertThrows(IllegalArgumentException.class,
                () -> new BatchNorm1d(4, 1e-5f, 1.5f, true)), "BatchNorm1d", "momentum", "1.5");
        Messages.assertMentions(assertThrows(IllegalArgumentException.class,
                () -> new Sequential(-2, List.of(new Linear(2, 2)), backend(), 1)), "input features", "-2");
        Messages.assertMentions(assertThrows(IllegalArgumentException.class,
                () -> new Sequential(2, List.of(), backend(), 1)), "at least one layer");
    }

    @Test
    void tensorWithANegativeAxis() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.zeros(backend(), 2, -3));
        Messages.assertMentions(e, "negative size -3", "[2, -3]");
        Messages.assertMentions(assertThrows(IllegalArgumentException.class,
                () -> Tensor.of(backend(), new float[4], 2, 3)), "[2, 3]", "6", "4");
        Messages.assertMentions(assertThrows(IllegalArgumentException.class,
                () -> Tensor.zeros(backend(), 1 << 16, 1 << 16)), "65536", String.valueOf(Integer.MAX_VALUE));
    }

    @Test
    void unknownActivationListsTheKnownNames() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Layers.activation("gelu"));
        Messages.assertMentions(e, "'gelu'");
        Messages.assertMentions(e, Layers.TYPES.toArray(String[]::new));
    }

    @Test
    void unknownLayerTypeListsTheKnownNames() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Layers.create("conv2d", Map.of("in_channels", 3)));
        Messages.assertMentions(e, "'conv2d'");
        Messages.assertMentions(e, Layers.TYPES.toArray(String[]::new));
        Messages.assertMentions(assertThrows(IllegalArgumentException.class, () -> Layers.create(null, Map.of())),
                "missing", "linear");
    }

    @Test
    void unknownOrMistypedOptionNamesTheOptionAndTheValidOnes() {
        Messages.assertMentions(assertThrows(IllegalArgumentException.class,
                () -> Layers.create("dropout", Map.of("rate", 0.5))), "'rate'", "[p]");
        Messages.assertMentions(assertThrows(IllegalArgumentException.class,
                () -> Layers.create("linear", Map.of("in_features", 2.5, "out_features", 2))), "in_features", "2.5");
        Messages.assertMentions(assertThrows(IllegalArgumentException.class,
                () -> Layers.create("linear", Map.of("out_features", 2))), "in_features");
    }
}
