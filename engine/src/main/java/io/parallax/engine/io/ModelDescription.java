package io.parallax.engine.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.parallax.engine.backend.Backend;
import io.parallax.engine.layer.Layer;
import io.parallax.engine.layer.Layers;
import io.parallax.engine.model.Sequential;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The architecture of a {@link Sequential}, enough to rebuild it: the input width and each
 * layer's {@link Layer#type()} and {@link Layer#config()}. Saved models carry it in their
 * metadata as JSON:
 * <pre>{"input_features": 6, "layers": [{"type": "linear", "config": {"in_features": 6, "out_features": 5, "bias": true}}, …]}</pre>
 */
public record ModelDescription(int inputFeatures, List<LayerDescription> layers) {

    /** One layer: its type name and the options {@link Layers#create} takes. */
    public record LayerDescription(String type, Map<String, Object> config) {
        public LayerDescription {
            if (type == null) {
                throw new IllegalArgumentException("a layer description needs a type; known: " + Layers.TYPES);
            }
            config = config == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(config));
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    public ModelDescription {
        if (inputFeatures <= 0) {
            throw new IllegalArgumentException("a model description needs input_features > 0, got " + inputFeatures);
        }
        if (layers == null || layers.isEmpty()) {
            throw new IllegalArgumentException("a model description needs at least one layer");
        }
        layers = List.copyOf(layers);
    }

    /** The description of {@code model}. */
    public static ModelDescription of(Sequential model) {
        List<LayerDescription> layers = new ArrayList<>();
        for (Layer l : model.layers()) {
            layers.add(new LayerDescription(l.type(), l.config()));
        }
        return new ModelDescription(model.inputFeatures(), layers);
    }

    /** A new model of this architecture on {@code backend}, initialised from {@code seed}. */
    public Sequential build(Backend backend, long seed) {
        List<Layer> built = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            LayerDescription d = layers.get(i);
            try {
                built.add(Layers.create(d.type(), d.config()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("layer " + i + ": " + e.getMessage(), e);
            }
        }
        return new Sequential(inputFeatures, built, backend, seed);
    }

    /** Compact JSON, {@code {"input_features": n, "layers": [{"type", "config"}, …]}}. */
    public String toJson() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("input_features", inputFeatures);
        List<Map<String, Object>> list = new ArrayList<>();
        for (LayerDescription d : layers) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", d.type());
            m.put("config", d.config());
            list.add(m);
        }
        root.put("layers", list);
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            // configs hold numbers, booleans and strings only
            throw new IllegalStateException("cannot write model description: " + e.getOriginalMessage(), e);
        }
    }

    /** Parses {@link #toJson()}'s form; fails with an IllegalArgumentException saying what is wrong. */
    public static ModelDescription fromJson(String json) {
        Map<String, Object> root;
        try {
            root = JSON.readValue(json, new TypeReference<LinkedHashMap<String, Object>>() {});
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("model description is not a well-formed JSON object: "
                    + e.getOriginalMessage(), e);
        }
        if (root == null) {
            throw new IllegalArgumentException("model description is empty");
        }
        for (String key : root.keySet()) {
            if (!key.equals("input_features") && !key.equals("layers")) {
                throw new IllegalArgumentException("model description has an unknown key '" + key
                        + "' (expected input_features, layers)");
            }
        }
        if (!(root.get("input_features") instanceof Integer in)) {
            throw new IllegalArgumentException("model description needs a whole number 'input_features', got "
                    + root.get("input_features"));
        }
        if (!(root.get("layers") instanceof List<?> list)) {
            throw new IllegalArgumentException("model description needs a 'layers' list, got " + root.get("layers"));
        }
        List<LayerDescription> layers = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> m) || !(m.get("type") instanceof String type)
                    || !(m.get("config") == null || m.get("config") instanceof Map)) {
                throw new IllegalArgumentException("model description layer " + i
                        + " must be {\"type\": name, \"config\": {…}}, got " + list.get(i));
            }
            for (Object key : m.keySet()) {
                if (!"type".equals(key) && !"config".equals(key)) {
                    throw new IllegalArgumentException("model description layer " + i + " has an unknown key '"
                            + key + "' (expected type, config)");
                }
            }
            Map<String, Object> config = new LinkedHashMap<>();
            if (m.get("config") instanceof Map<?, ?> c) {
                c.forEach((k, v) -> config.put(String.valueOf(k), v));
            }
            layers.add(new LayerDescription(type, config));
        }
        return new ModelDescription(in, layers);
    }
}
