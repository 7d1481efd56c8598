package io.parallax.engine.reference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.parallax.engine.backend.Backend;
import io.parallax.engine.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.function.Executable;

/**
 * The PyTorch reference values in {@code reference/reference.json}, written by
 * {@code make_reference.py} next to it, and helpers to turn its nested arrays into tensors.
 *
 * <p>Inputs, parameters and upstream gradients in the file are float32-exact (the script draws
 * them in float32), so converting them to {@code float} loses nothing; expected values are
 * float64 and are kept as {@code double}.
 */
final class ReferenceData {

    static final String RESOURCE = "/reference/reference.json";
    static final ObjectMapper MAPPER = new ObjectMapper();
    private static JsonNode root;

    private ReferenceData() {}

    /** The whole document, parsed once per JVM. */
    static synchronized JsonNode root() {
        if (root == null) {
            try (InputStream in = ReferenceData.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException(RESOURCE + " is missing from the test classpath; run "
                            + "/usr/bin/python3 engine/src/test/resources/reference/make_reference.py");
                }
                root = MAPPER.readTree(in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + RESOURCE, e);
            }
        }
        return root;
    }

    /**
     * Runs one case's checks so that a failure names the case in its message too: surefire's
     * console report shows a dynamic test by its index, not by its display name.
     */
    static void inCase(JsonNode c, Executable checks) throws Throwable {
        try {
            checks.execute();
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError("case '" + c.get("name").asText() + "': " + e.getMessage(), e);
        }
    }

    /** The elements of an array node of any nesting depth. */
    static Stream<JsonNode> elements(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false);
    }

    /** Options as {@code Layers.create} takes them (Jackson yields Integer, Double, Boolean). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> options(JsonNode layerSpec) {
        JsonNode o = layerSpec.get("options");
        return o == null ? Map.of() : MAPPER.convertValue(o, Map.class);
    }

    /** The shape of a (possibly nested) array node; a number is a scalar, shape []. */
    static int[] shape(JsonNode node) {
        List<Integer> dims = new ArrayList<>();
        for (JsonNode n = node; n.isArray(); n = n.get(0)) {
            dims.add(n.size());
            if (n.size() == 0) {
                break;
            }
        }
        return dims.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The numbers of a nested array in row-major order, as doubles. */
    static double[] doubles(JsonNode node) {
        List<Double> out = new ArrayList<>();
        flatten(node, out);
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** The numbers of a nested array in row-major order, as floats (exact for float32-exact data). */
    static float[] floats(JsonNode node) {
        double[] d = doubles(node);
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
            if (f[i] != d[i] && Double.isFinite(d[i])) {
                throw new IllegalStateException("reference input " + d[i] + " is not float32-exact; "
                        + "regenerate reference.json with make_reference.py");
            }
        }
        return f;
    }

    static int[] ints(JsonNode node) {
        return elements(node).mapToInt(JsonNode::asInt).toArray();
    }

    /** A tensor on {@code backend} holding a nested array node, with its shape. */
    static Tensor tensor(Backend backend, JsonNode node) {
        return Tensor.of(backend, floats(node), shape(node));
    }

    private static void flatten(JsonNode node, List<Double> out) {
        if (node.isArray()) {
            node.forEach(n -> flatten(n, out));
        } else if (node.isNumber()) {
            out.add(node.doubleValue());
        } else {
            throw new IllegalStateException("expected a number in the reference data, got " + node);
        }
    }
}
