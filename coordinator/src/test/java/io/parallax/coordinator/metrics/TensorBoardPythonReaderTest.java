package io.parallax.coordinator.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.parallax.coordinator.JobListener.EpochReport;
import io.parallax.coordinator.JobListener.StepReport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A second, foreign reader of the event file: {@code src/test/python/read_tfevents.py} checks
 * the TFRecord framing with its own CRC32C and decodes the Events with protobuf's Python runtime
 * from a hand-written descriptor. Skipped when {@code /usr/bin/python3} or its protobuf package
 * ({@code apt-get install python3-protobuf}) is missing.
 */
class TensorBoardPythonReaderTest {

    static final Path PYTHON = Path.of("/usr/bin/python3");
    static final Path SCRIPT = Path.of("src/test/python/read_tfevents.py");

    @TempDir
    Path dir;

    @BeforeAll
    static void pythonWithProtobuf() throws Exception {
        assumeTrue(Files.isExecutable(PYTHON), PYTHON + " is not installed");
        Process probe = new ProcessBuilder(PYTHON.toString(), "-c", "import google.protobuf")
                .redirectErrorStream(true).start();
        probe.getInputStream().readAllBytes();
        assumeTrue(probe.waitFor(60, TimeUnit.SECONDS) && probe.exitValue() == 0,
                "python3-protobuf is not installed");
    }

    @Test
    void pythonReadsTheSameScalarsBack() throws Exception {
        Path file;
        try (TensorBoardWriter tb = new TensorBoardWriter(dir)) {
            file = tb.file();
            tb.onStep(new StepReport(0, 1, 1, 1, 0.6931, 32, 0, 0, 1_000_000));
            tb.onStep(new StepReport(0, 2, 1, 1, 0.5, 32, 0, 0, 2_000_000));
            tb.onEpoch(new EpochReport(1, 0.6, 0.55, 0.8125, 48_000, 1.5, 3e-4, 1, 0));
            tb.onStep(new StepReport(1, 300_000_000_000L, 1, 1, Double.POSITIVE_INFINITY, 32, 0, 0, 1_000_000));
        }
        JsonNode events = python(file);
        assertEquals(5, events.size(), events.toString());
        assertEquals("brain.Event:2", events.get(0).get("file_version").asText());
        assertEquals(1, events.get(1).get("step").asLong());
        assertEquals(0.6931f, (float) events.get(1).get("scalars").get("train/loss").asDouble());
        assertEquals(32_000f, (float) events.get(1).get("scalars").get("train/samples_per_second").asDouble());
        assertEquals(16_000f, (float) events.get(2).get("scalars").get("train/samples_per_second").asDouble());
        JsonNode epoch = events.get(3);
        assertEquals(1, epoch.get("step").asLong());
        assertEquals(0.8125f, (float) epoch.get("scalars").get("epoch/val_accuracy").asDouble());
        assertEquals(3e-4f, (float) epoch.get("scalars").get("epoch/learning_rate").asDouble());
        assertEquals(0.55f, (float) epoch.get("scalars").get("epoch/val_loss").asDouble());
        // a step beyond 2^32 and an infinite loss survive the trip (a multi-byte varint, a float inf)
        assertEquals(300_000_000_000L, events.get(4).get("step").asLong());
        assertEquals("Infinity", events.get(4).get("scalars").get("train/loss").asText());
        double wall = events.get(3).get("wall_time").asDouble();
        assertTrue(Math.abs(wall - System.currentTimeMillis() / 1000.0) < 600, "wall_time " + wall);
    }

    @Test
    void pythonRejectsADamagedFile() throws Exception {
        Path file;
        try (TensorBoardWriter tb = new TensorBoardWriter(dir)) {
            file = tb.file();
            tb.onEpoch(new EpochReport(1, 0.6, 0.55, 0.8125, 48_000, 1.5, 3e-4, 1, 0));
        }
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 6] ^= 0x40;
        Files.write(file, bytes);
        Process p = start(file);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(2, p.exitValue(), err);
        assertTrue(err.contains("data CRC mismatch"), err);
    }

    private static JsonNode python(Path file) throws IOException, InterruptedException {
        Process p = start(file);
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "python did not finish");
        assertEquals(0, p.exitValue(), err);
        return new ObjectMapper().readTree(out).get("events");
    }

    private static Process start(Path file) throws IOException {
        return new ProcessBuilder(List.of(PYTHON.toString(), SCRIPT.toString(), file.toString())).start();
    }
}
