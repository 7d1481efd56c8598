package io.parallax.engine.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How a raw input becomes a row of features, before any {@link Normalization}: a CSV row's
 * feature columns in {@code columns} order (the label column left out), values as written; an
 * IDX image or an image-folder picture as its pixels in {@code shape} order (image folders:
 * channels first, C×H×W), each 0–255 value divided by {@link #divideBy()} = 255, as torchvision's
 * {@code ToTensor} does. Saved with a model so that its user can feed it what training fed it:
 * a model trained on pixels / 255 gives wrong answers on raw pixels, silently.
 *
 * <p>As JSON: {@code {"kind": "csv", "features": 4, "divide_by": 1, "columns": ["a", "b", "c", "d"]}},
 * {@code {"kind": "idx", "features": 784, "divide_by": 255, "shape": [28, 28]}} or
 * {@code {"kind": "image_folder", "features": 3072, "divide_by": 255, "shape": [3, 32, 32]}}.
 */
public record InputFormat(Kind kind, List<String> columns, List<Integer> shape) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where the rows came from. */
    public enum Kind {
        CSV, IDX, IMAGE_FOLDER
    }

    public InputFormat {
        columns = List.copyOf(columns);
        shape = List.copyOf(shape);
        if (kind == Kind.CSV ? columns.isEmpty() || !shape.isEmpty() : !columns.isEmpty() || shape.isEmpty()) {
            throw new IllegalArgumentException(kind + " input needs " + (kind == Kind.CSV ? "column names" : "a shape")
                    + " and nothing else");
        }
        long features = 1;
        for (int axis : shape) {
            if (axis < 1) {
                throw new IllegalArgumentException("input shape " + shape + " has an axis below 1");
            }
            features *= axis;
            if (features > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("input shape " + shape + " has more than 2^31 features");
            }
        }
    }

    /** CSV rows: these feature columns, in this order. */
    public static InputFormat csv(List<String> featureColumns) {
        return new InputFormat(Kind.CSV, featureColumns, List.of());
    }

    /** IDX images: one row is an image of this shape (rows, columns), pixels / 255. */
    public static InputFormat idx(List<Integer> imageShape) {
        return new InputFormat(Kind.IDX, List.of(), imageShape);
    }

    /** Image-folder pictures, decoded and resized to channels × height × width, pixels / 255. */
    public static InputFormat imageFolder(int channels, int height, int width) {
        return new InputFormat(Kind.IMAGE_FOLDER, List.of(), List.of(channels, height, width));
    }

    /** Features per row. */
    public int features() {
        if (kind == Kind.CSV) {
            return columns.size();
        }
        long n = 1;
        for (int axis : shape) {
            n *= axis;
        }
        return Math.toIntExact(n);
    }

    /** What each raw value was divided by: 255 for pixels, 1 for CSV values. */
    public int divideBy() {
        return kind == Kind.CSV ? 1 : 255;
    }

    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("kind", kind.name().toLowerCase(Locale.ROOT));
        root.put("features", features());
        root.put("divide_by", divideBy());
        if (kind == Kind.CSV) {
            columns.forEach(root.putArray("columns")::add);
        } else {
            shape.forEach(root.putArray("shape")::add);
        }
        return root.toString();
    }

    /**
     * Reads back what {@link #toJson()} wrote.
     *
     * @throws IllegalArgumentException if the JSON is not of that form
     */
    public static InputFormat fromJson(String json) {
        JsonNode n;
        try {
            n = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("input format: not valid JSON: " + e.getOriginalMessage(), e);
        }
        String kindName = n.path("kind").asText();
        Kind kind;
        try {
            kind = Kind.valueOf(kindName.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("input format: unknown kind '" + kindName + "'; known: csv, idx, "
                    + "image_folder", e);
        }
        List<String> columns = new ArrayList<>();
        n.path("columns").forEach(c -> columns.add(c.asText()));
        List<Integer> shape = new ArrayList<>();
        n.path("shape").forEach(a -> shape.add(a.asInt()));
        InputFormat format = new InputFormat(kind, columns, shape);
        if (n.has("divide_by") && n.path("divide_by").asDouble() != format.divideBy()) {
            throw new IllegalArgumentException("input format: 'divide_by' is " + n.path("divide_by").asText() + ", but "
                    + kindName + " inputs are divided by " + format.divideBy());
        }
        if (n.has("features") && n.path("features").asInt() != format.features()) {
            throw new IllegalArgumentException("input format: 'features' is " + n.path("features").asText()
                    + " but its " + (kind == Kind.CSV ? "columns give " : "shape gives ") + format.features());
        }
        return format;
    }
}
