package io.parallax.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.layer.BatchNorm1d;
import io.parallax.engine.layer.ELU;
import io.parallax.engine.layer.Layers;
import io.parallax.engine.layer.LeakyReLU;
import io.parallax.engine.layer.Linear;
import io.parallax.engine.layer.ReLU;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.tensor.Tensor;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interop with PyTorch both ways: a file written by PyTorch
 * ({@code safetensors/make_torch_safetensors.py}) loads and reproduces PyTorch's outputs, and a
 * file we write loads into PyTorch with {@code load_state_dict(strict=True)}
 * ({@code safetensors/check_torch_load.py}; skipped where PyTorch is not installed).
 */
class TorchInteropTest {

    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final double RELATIVE = 1e-5;
    private static final double ABSOLUTE = 1e-6;
    /** check_torch_load.py's exit status when it cannot import torch. */
    private static final int TORCH_MISSING = 77;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void aFileWrittenByPyTorchGivesPyTorchsOutputs() throws Exception {
        JsonNode reference = JSON.readTree(resource("torch_model_outputs.json").toFile());
        Sequential model = Sequential.of(6, new Linear(6, 5), new BatchNorm1d(5), new ReLU(), new Linear(5, 3));
        LoadResult result = ModelFile.loadInto(model, resource("torch_model.safetensors"));
        assertEquals(9, result.loaded().size());
        assertEquals(reference.get("num_batches_tracked").asLong(), ((BatchNorm1d) model.layer(1)).numBatchesTracked());

        float[][] input = matrix(reference.get("input"));
        float[] out = model.eval().forward(tensor(input)).toArray();
        assertClose(matrix(reference.get("output")), out, "Java output of the PyTorch model");
    }

    @Test
    void pyTorchLoadsAFileWeWriteAndGivesOurOutputs() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(PYTHON), PYTHON + " is not installed");
        Sequential model = new Sequential(6, List.of(new Linear(6, 8), new BatchNorm1d(8), new LeakyReLU(0.1f),
                new Linear(8, 8, false), new BatchNorm1d(8, 1e-3f, 0.2f, false), new ELU(0.5f),
                Layers.create("dropout", Map.of("p", 0.2)), new Linear(8, 4), Layers.activation("tanh"),
                new Linear(4, 3), Layers.activation("softmax")), Backends.cpu(), 17);
        SplittableRandom random = new SplittableRandom(5);
        for (int step = 0; step < 4; step++) {
            model.forward(Tensor.of(Backends.cpu(), ModelFileTest.randomArray(random, 10 * 6), 10, 6));
        }
        model.namedParameters().get(2).tensor().copyFrom(ModelFileTest.randomArray(random, 8)); // 1.weight
        Path file = dir.resolve("ours.safetensors");
        ModelFile.save(model, file);

        float[][] input = new float[5][];
        for (int r = 0; r < input.length; r++) {
            input[r] = ModelFileTest.randomArray(random, 6);
        }
        Path inputFile = dir.resolve("input.json");
        JSON.writeValue(inputFile.toFile(), Map.of("input", input));
        String stdout = run(resource("check_torch_load.py").toString(), file.toString(), inputFile.toString());
        Assumptions.assumeTrue(stdout != null, "PyTorch cannot be imported by " + PYTHON);
        JsonNode torch = JSON.readTree(stdout);

        float[] ours = model.eval().forward(tensor(input)).toArray();
        assertClose(matrix(torch.get("output")), ours, "PyTorch output of our model");
        assertEquals(4, torch.get("num_batches_tracked").get("1.num_batches_tracked").asLong());
        assertEquals(4, torch.get("num_batches_tracked").get("4.num_batches_tracked").asLong());
        assertEquals("pt", torch.get("format").asText());
    }

    /**
     * Runs a Python script and returns its stdout, or null when it exits with 77 (PyTorch
     * missing); fails the test with the script's stderr on any other failure.
     */
    static String run(String... args) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(PYTHON.toString());
        pb.command().addAll(List.of(args));
        pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        Path err = Files.createTempFile("check_torch_load", ".err");
        Process p = pb.redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("python timed out");
        }
        String stderr = Files.readString(err);
        Files.delete(err);
        if (p.exitValue() == TORCH_MISSING) {
            return null;
        }
        if (p.exitValue() != 0) {
            fail("python exited with " + p.exitValue() + ":\n" + stderr);
        }
        return out;
    }

    static Path resource(String name) throws URISyntaxException {
        return Path.of(TorchInteropTest.class.getResource("/safetensors/" + name).toURI());
    }

    static float[][] matrix(JsonNode rows) {
        float[][] m = new float[rows.size()][];
        for (int r = 0; r < m.length; r++) {
            m[r] = new float[rows.get(r).size()];
            for (int c = 0; c < m[r].length; c++) {
                m[r][c] = (float) rows.get(r).get(c).asDouble();
            }
        }
        return m;
    }

    static Tensor tensor(float[][] rows) {
        float[] flat = new float[rows.length * rows[0].length];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, flat, r * rows[0].length, rows[0].length);
        }
        return Tensor.of(Backends.cpu(), flat, rows.length, rows[0].length);
    }

    static void assertClose(float[][] expected, float[] actual, String what) {
        int cols = expected[0].length;
        assertEquals(expected.length * cols, actual.length, what + ": size");
        for (int i = 0; i < actual.length; i++) {
            double e = expected[i / cols][i % cols];
            double tolerance = Math.max(ABSOLUTE, RELATIVE * Math.abs(e));
            assertTrue(Math.abs(actual[i] - e) <= tolerance, what + " [" + i / cols + ", " + i % cols + "]: expected "
                    + e + ", got " + actual[i]);
        }
    }
}
