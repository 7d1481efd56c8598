package io.parallax.engine.reference;

import static io.parallax.engine.reference.ReferenceData.doubles;
import static io.parallax.engine.reference.ReferenceData.floats;
import static io.parallax.engine.reference.Tolerance.assertClose;

import com.fasterxml.jackson.databind.JsonNode;
import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.loss.BinaryCrossEntropyLoss;
import io.parallax.engine.loss.BinaryCrossEntropyWithLogitsLoss;
import io.parallax.engine.loss.CrossEntropyLoss;
import io.parallax.engine.loss.Loss;
import io.parallax.engine.loss.MeanSquaredErrorLoss;
import io.parallax.engine.loss.Targets;
import io.parallax.engine.tensor.Tensor;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Loss values and dL/d(input) of every loss, both reductions, against PyTorch
 * ({@code loss_cases} of the reference file), including logits large enough to overflow a naive
 * exponential and BCE probabilities at and near 0 and 1, where PyTorch clamps each log at −100
 * and divides the gradient by max(p(1 − p), 1e-12).
 *
 * <p>Not final: a backend's test can extend it and override {@link #backend()}.
 */
class LossReferenceTest {

    /** The backend under test. */
    protected Backend backend() {
        return Backends.cpu();
    }

    @TestFactory
    Stream<DynamicTest> lossMatchesPyTorch() {
        return ReferenceData.elements(ReferenceData.root().get("loss_cases"))
                .map(c -> DynamicTest.dynamicTest(c.get("name").asText(), () -> ReferenceData.inCase(c, () -> check(c))));
    }

    private void check(JsonNode c) {
        Backend backend = backend();
        String type = c.get("type").asText();
        Tensor input = ReferenceData.tensor(backend, c.get("input"));
        Tensor grad = Tensor.zeros(backend, input.shape());
        Loss loss = loss(type, c.get("reduction").asText());
        Targets targets = targets(backend, type, c.get("targets"), input);

        double value = loss.compute(input, targets, grad);
        assertClose(loss + " value", c.get("expected").get("loss").asDouble(), value);
        assertClose(loss + " gradient", doubles(c.get("expected").get("grad")), grad.toArray());
        assertClose(loss + " value without gradient", c.get("expected").get("loss").asDouble(),
                loss.compute(input, targets));
    }

    /** Our loss for PyTorch's name and reduction string ({@code "mean"}, {@code "sum"}). */
    static Loss loss(String type, String reduction) {
        Loss.Reduction r = Loss.Reduction.valueOf(reduction.toUpperCase(Locale.ROOT));
        return switch (type) {
            case "cross_entropy" -> new CrossEntropyLoss(r);
            case "bce_with_logits" -> new BinaryCrossEntropyWithLogitsLoss(r);
            case "bce" -> new BinaryCrossEntropyLoss(r);
            case "mse" -> new MeanSquaredErrorLoss(r);
            default -> throw new IllegalArgumentException("no loss '" + type + "' in the reference tests");
        };
    }

    /** Class indices for cross-entropy, else values shaped like the output. */
    static Targets targets(Backend backend, String type, JsonNode targets, Tensor output) {
        if (type.equals("cross_entropy")) {
            return Targets.classes(ReferenceData.ints(targets));
        }
        return Targets.values(Tensor.of(backend, floats(targets), output.shape()));
    }
}
