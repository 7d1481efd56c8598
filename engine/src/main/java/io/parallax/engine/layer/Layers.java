package io.parallax.engine.layer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Builds layers from their type name and options, the form a model description (a job file, a
 * saved model's metadata) uses. Names are those of {@link Layer#type()}; a few PyTorch spellings
 * are accepted as aliases ({@code silu} for swish, {@code batchnorm1d}).
 */
public final class Layers {

    /** Every type name {@link #create} understands, canonical spelling. */
    public static final List<String> TYPES = List.of("linear", "relu", "leaky_relu", "elu", "sigmoid", "tanh",
            "softmax", "swish", "identity", "binary_step", "dropout", "batch_norm1d");

    private Layers() {}

    /** An activation layer by name, with its default parameter. */
    public static Layer activation(String name) {
        return create(name, Map.of());
    }

    /**
     * A layer from its type and options (the keys {@link Layer#config()} writes). Unknown types
     * and options are rejected with the list of valid ones.
     */
    public static Layer create(String type, Map<String, ?> options) {
        if (type == null) {
            throw new IllegalArgumentException("layer type is missing; known: " + TYPES);
        }
        Options o = new Options(type, options);
        Layer layer = switch (type.toLowerCase(Locale.ROOT).replace("-", "_")) {
            case "linear", "dense" -> new Linear(o.integer("in_features"), o.integer("out_features"),
                    o.bool("bias", true));
            case "relu" -> new ReLU();
            case "leaky_relu", "leakyrelu" -> new LeakyReLU((float) o.number("negative_slope",
                    LeakyReLU.DEFAULT_NEGATIVE_SLOPE));
            case "elu" -> new ELU((float) o.number("alpha", ELU.DEFAULT_ALPHA));
            case "sigmoid" -> new Sigmoid();
            case "tanh" -> new Tanh();
            case "softmax" -> new Softmax();
            case "swish", "silu" -> new Swish();
            case "identity" -> new Identity();
            case "binary_step", "step" -> new BinaryStep();
            case "dropout" -> new Dropout((float) o.number("p", Dropout.DEFAULT_P));
            case "batch_norm1d", "batchnorm1d", "batch_norm" -> new BatchNorm1d(o.integer("num_features"),
                    (float) o.number("eps", BatchNorm1d.DEFAULT_EPS),
                    (float) o.number("momentum", BatchNorm1d.DEFAULT_MOMENTUM), o.bool("affine", true));
            default -> throw new IllegalArgumentException("unknown layer type '" + type + "'; known: " + TYPES);
        };
        o.rejectUnused(layer.config().keySet());
        return layer;
    }

    /** Reads typed options and remembers which were asked for. */
    private static final class Options {
        private final String type;
        private final Map<String, Object> values = new LinkedHashMap<>();

        Options(String type, Map<String, ?> options) {
            this.type = type;
            if (options != null) {
                values.putAll(options);
            }
        }

        int integer(String key) {
            Object v = values.get(key);
            if (v == null) {
                throw new IllegalArgumentException("layer '" + type + "' needs option '" + key + "'");
            }
            if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
                throw new IllegalArgumentException("layer '" + type + "' option '" + key
                        + "' must be a whole number, got " + v);
            }
            return n.intValue();
        }

        double number(String key, double fallback) {
            Object v = values.get(key);
            if (v == null) {
                return fallback;
            }
            if (!(v instanceof Number n)) {
                throw new IllegalArgumentException("layer '" + type + "' option '" + key + "' must be a number, got " + v);
            }
            return n.doubleValue();
        }

        boolean bool(String key, boolean fallback) {
            Object v = values.get(key);
            if (v == null) {
                return fallback;
            }
            if (!(v instanceof Boolean b)) {
                throw new IllegalArgumentException("layer '" + type + "' option '" + key + "' must be true or false, got " + v);
            }
            return b;
        }

        void rejectUnused(java.util.Set<String> known) {
            for (String key : values.keySet()) {
                if (!known.contains(key)) {
                    throw new IllegalArgumentException("layer '" + type + "' has no option '" + key + "'"
                            + (known.isEmpty() ? "" : "; its options: " + known));
                }
            }
        }
    }
}
