package io.parallax.engine.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a trained model expects around it: how its inputs were read ({@link InputFormat}: CSV
 * columns, or pixels / 255), the normalisation they then went through in training, and the class
 * each output stands for. Saved with the model ({@code ModelFile}), so that the model is usable
 * on raw data away from the job that trained it: a model trained on standardised features gives
 * wrong answers on raw ones, silently. Each part may be absent (null, or no class names).
 *
 * <p>As JSON: the input format (see {@link InputFormat}), the normalisation
 * {@code {"kind": "standardize", "shift": [...], "scale": [...]}}, meaning
 * {@code x' = (x − shift) × scale} per feature, and the classes {@code ["cat", "non-cat"]}, index
 * = output.
 */
public record Preprocessing(InputFormat input, Normalization normalization, List<String> classNames) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public Preprocessing {
        classNames = List.copyOf(classNames);
    }

    /**
     * Raw rows as their source held them (CSV values in the input format's column order, pixels
     * 0–255 in its shape's order), row after row, made the model's input as training made it:
     * divided by the format's divisor, normalised in float64, each result rounded to float32.
     *
     * @throws IllegalArgumentException when the values are not whole rows of the model's width
     */
    public float[] prepare(double[] rawRows) {
        int width = input != null ? input.features() : normalization != null ? normalization.width() : -1;
        if (width > 0 && rawRows.length % width != 0) {
            throw new IllegalArgumentException(rawRows.length + " values are not whole rows of " + width + " features");
        }
        if (normalization != null && normalization.kind() != Normalization.Kind.NONE && width != normalization.width()) {
            throw new IllegalArgumentException("the input format has " + width + " features, the normalisation "
                    + normalization.width());
        }
        int divideBy = input != null ? input.divideBy() : 1;
        double[] shift = normalization != null && normalization.kind() != Normalization.Kind.NONE
                ? normalization.shift() : null;
        double[] scale = shift != null ? normalization.scale() : null;
        float[] out = new float[rawRows.length];
        for (int i = 0; i < out.length; i++) {
            // pixels were divided in float32 as read, CSV values kept in float64 until normalised
            double x = divideBy == 1 ? rawRows[i] : (float) rawRows[i] / (float) divideBy;
            if (shift != null) {
                int c = i % shift.length;
                x = (x - shift[c]) * scale[c];
            }
            out[i] = (float) x;
        }
        return out;
    }

    /** The normalisation as JSON; null for none. */
    public String normalizationJson() {
        if (normalization == null || normalization.kind() == Normalization.Kind.NONE) {
            return null;
        }
        ObjectNode root = JSON.createObjectNode();
        root.put("kind", normalization.kind().name().toLowerCase(Locale.ROOT));
        ArrayNode shift = root.putArray("shift");
        for (double v : normalization.shift()) {
            shift.add(v);
        }
        ArrayNode scale = root.putArray("scale");
        for (double v : normalization.scale()) {
            scale.add(v);
        }
        return root.toString();
    }

    /** The class names as a JSON array. */
    public String classNamesJson() {
        ArrayNode names = JSON.createArrayNode();
        classNames.forEach(names::add);
        return names.toString();
    }

    /** The input format as JSON; null when unknown. */
    public String inputJson() {
        return input == null ? null : input.toJson();
    }

    /**
     * Reads back what {@link #inputJson()}, {@link #normalizationJson()} and
     * {@link #classNamesJson()} wrote; any may be null (unknown input format; no normalisation;
     * no class names).
     *
     * @throws IllegalArgumentException if the JSON is not of that form
     */
    public static Preprocessing fromJson(String inputJson, String normalizationJson, String classNamesJson) {
        try {
            InputFormat input = inputJson == null ? null : InputFormat.fromJson(inputJson);
            Normalization normalization = null;
            if (normalizationJson != null) {
                JsonNode n = JSON.readTree(normalizationJson);
                normalization = Normalization.of(Normalization.Kind.parse(n.path("kind").asText()),
                        numbers(n.path("shift")), numbers(n.path("scale")));
            }
            List<String> names = new ArrayList<>();
            if (classNamesJson != null) {
                JsonNode a = JSON.readTree(classNamesJson);
                if (!a.isArray()) {
                    throw new IllegalArgumentException("class names: not a JSON array");
                }
                a.forEach(e -> names.add(e.asText()));
            }
            return new Preprocessing(input, normalization, names);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static double[] numbers(JsonNode a) {
        if (!a.isArray()) {
            throw new IllegalArgumentException("normalisation: 'shift' and 'scale' must be arrays of numbers");
        }
        double[] f = new double[a.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = a.get(i).asDouble();
        }
        return f;
    }
}
