package io.parallax.engine.reference;

import static io.parallax.engine.reference.ReferenceData.doubles;
import static io.parallax.engine.reference.ReferenceData.floats;
import static io.parallax.engine.reference.Tolerance.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.layer.BatchNorm1d;
import io.parallax.engine.layer.Layer;
import io.parallax.engine.layer.Layers;
import io.parallax.engine.loss.Loss;
import io.parallax.engine.loss.Targets;
import io.parallax.engine.model.NamedTensor;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Forward outputs, input gradients, parameter gradients and running-statistics updates of every
 * layer type, alone and stacked, against PyTorch ({@code layer_cases} of the reference file).
 *
 * <p>Each case builds its layers with {@link Layers#create} from the type and options PyTorch's
 * module was built from, inside a {@link Sequential}, and loads PyTorch's parameters and buffers
 * by their state_dict names. The upstream gradient is the case's random dy or, where the case
 * names a loss, that loss's gradient.
 *
 * <p>Gradients are taken twice: {@link Sequential#backward} gives the parameter gradients along
 * the path training uses (it computes no gradient for the model's input); then each layer's
 * {@link Layer#backward} is chained by hand, asking every layer for its input gradient, to get
 * dL/dx. Both overwrite the gradients, so the second pass must reproduce the first.
 *
 * <p>Not final: a backend's test can extend it and override {@link #backend()}.
 */
class LayerReferenceTest {

    /** The backend under test. */
    protected Backend backend() {
        return Backends.cpu();
    }

    @TestFactory
    Stream<DynamicTest> layerMatchesPyTorch() {
        return ReferenceData.elements(ReferenceData.root().get("layer_cases"))
                .map(c -> DynamicTest.dynamicTest(c.get("name").asText(), () -> ReferenceData.inCase(c, () -> check(c))));
    }

    private void check(JsonNode c) {
        Backend backend = backend();
        List<Layer> layers = new ArrayList<>();
        for (JsonNode spec : c.get("layers")) {
            layers.add(Layers.create(spec.get("type").asText(), ReferenceData.options(spec)));
        }
        Tensor x = ReferenceData.tensor(backend, c.get("input"));
        Sequential model = new Sequential(x.cols(), layers, backend, 0);
        load(model.namedParameters(), c.get("parameters"), "parameters");
        load(model.namedBuffers(), c.get("buffers"), "buffers");
        c.get("num_batches_tracked").fields().forEachRemaining(e ->
                ((BatchNorm1d) model.layer(Integer.parseInt(e.getKey()))).setNumBatchesTracked(e.getValue().asLong()));
        if (c.get("training").asBoolean()) {
            model.train();
        } else {
            model.eval();
        }
        JsonNode expected = c.get("expected");

        Tensor y = model.forward(x);
        assertClose("output", doubles(expected.get("output")), y.toArray());

        Tensor dy;
        if (c.has("loss")) {
            dy = Tensor.zeros(backend, y.shape());
            double value = loss(c.get("loss")).compute(y, targets(backend, c.get("loss"), y), dy);
            assertClose("loss", expected.get("loss").asDouble(), value);
        } else {
            dy = ReferenceData.tensor(backend, c.get("dy"));
        }

        model.backward(dy);
        compareGradients(model, expected.get("gradients"), "Sequential.backward");

        Tensor g = dy;
        for (int i = model.layers().size() - 1; i >= 0; i--) {
            g = model.layer(i).backward(g, true);
            assertNotNull(g, "layer " + i + " returned no input gradient although asked for one");
        }
        assertClose("dx", doubles(expected.get("dx")), g.toArray());
        compareGradients(model, expected.get("gradients"), "layer-by-layer backward");

        for (NamedTensor b : model.namedBuffers()) {
            assertClose(b.name() + " after the step", doubles(expected.get("buffers").get(b.name())),
                    b.tensor().toArray());
        }
        expected.get("num_batches_tracked").fields().forEachRemaining(e -> assertEquals(e.getValue().asLong(),
                ((BatchNorm1d) model.layer(Integer.parseInt(e.getKey()))).numBatchesTracked(),
                e.getKey() + ".num_batches_tracked"));
    }

    /** Copies PyTorch's tensors in by name; the names and shapes must be exactly PyTorch's. */
    private static void load(List<NamedTensor> ours, JsonNode theirs, String what) {
        TreeSet<String> expectedNames = new TreeSet<>();
        theirs.fieldNames().forEachRemaining(expectedNames::add);
        TreeSet<String> ourNames = new TreeSet<>();
        ours.forEach(t -> ourNames.add(t.name()));
        assertEquals(expectedNames, ourNames, what + " names (PyTorch state_dict vs ours)");
        for (NamedTensor t : ours) {
            JsonNode values = theirs.get(t.name());
            assertArrayEquals(ReferenceData.shape(values), t.tensor().shape(), t.name() + " shape");
            t.tensor().copyFrom(floats(values));
        }
    }

    private static void compareGradients(Sequential model, JsonNode expected, String pass) {
        assertEquals(expected.size(), model.namedGradients().size(), "number of parameter gradients");
        for (NamedTensor g : model.namedGradients()) {
            assertClose("d" + g.name() + " (" + pass + ")", doubles(expected.get(g.name())), g.tensor().toArray());
        }
    }

    private static Loss loss(JsonNode spec) {
        return LossReferenceTest.loss(spec.get("type").asText(), spec.get("reduction").asText());
    }

    private static Targets targets(Backend backend, JsonNode spec, Tensor output) {
        return LossReferenceTest.targets(backend, spec.get("type").asText(), spec.get("targets"), output);
    }
}
