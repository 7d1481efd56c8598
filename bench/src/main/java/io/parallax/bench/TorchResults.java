package io.parallax.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * PyTorch's step times as {@code bench/torch_step.py} writes them: a JSON object with
 * {@code torch} (version), {@code threads}, and {@code results}, a list of
 * {@code {"batch": n, "seconds_per_step": [one value per repetition]}}.
 */
final class TorchResults {

    private final String version;
    private final Map<Integer, double[]> secondsPerStep = new HashMap<>();

    private TorchResults(String version) {
        this.version = version;
    }

    static TorchResults read(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        if (root == null || !root.has("results")) {
            throw new IOException(file + " is not the output of torch_step.py (no \"results\")");
        }
        TorchResults r = new TorchResults(root.path("torch").asText("?"));
        for (JsonNode entry : root.get("results")) {
            JsonNode times = entry.get("seconds_per_step");
            double[] values = new double[times.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = times.get(i).asDouble();
            }
            r.secondsPerStep.put(entry.get("batch").asInt(), values);
        }
        return r;
    }

    String version() {
        return version;
    }

    /** Seconds per step, one per repetition, or null when the file has no such batch. */
    double[] secondsPerStep(int batch) {
        return secondsPerStep.get(batch);
    }
}
