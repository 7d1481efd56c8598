package io.parallax.coordinator.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.parallax.coordinator.JobListener.EpochReport;
import io.parallax.coordinator.JobRunner;
import io.parallax.coordinator.LocalCluster;
import io.parallax.engine.backend.Backends;
import io.parallax.worker.job.JobFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The job folder's three outputs, from a real (small) training run, and the composite's closing. */
class MetricsSinksTest {

    static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @Test
    void aRealJobFillsTheJobFolderWithMatchingMetrics() throws Exception {
        Path jobDir = dir.resolve("job-0007");
        JobRunner.Result result;
        try (LocalCluster cluster = LocalCluster.start(1, Backends.cpu(), List.of(EXAMPLES));
             MetricsSinks sinks = MetricsSinks.forJob(jobDir)) {
            result = cluster.run(JobFiles.parse("""
                    {
                      "name": "metrics",
                      "model": {"layers": [{"linear": {"out_features": 16}}, {"activation": {"type": "relu"}},
                                           {"linear": {"out_features": 2}}]},
                      "loss": "cross_entropy",
                      "optimizer": {"name": "adam", "lr": 0.01},
                      "data": {"train": {"csv": {"path": "%s", "label_column": "target"}},
                               "validation_split": 0.2, "normalization": "standardize"},
                      "batch_size": 50, "epochs": 3, "seed": 5
                    }""".formatted(EXAMPLES.resolve("data/breast_cancer.csv").toString().replace("\\", "/"))),
                    sinks);
        }
        List<EpochReport> reports = result.epochs();
        assertEquals(3, reports.size());

        List<JsonNode> lines = JsonLinesMetricsTest.lines(jobDir.resolve(MetricsSinks.METRICS_FILE));
        assertEquals(3, lines.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(reports.get(i).epoch(), lines.get(i).get("epoch").asInt());
            assertEquals(reports.get(i).valAccuracy(), lines.get(i).get("val_accuracy").asDouble());
            assertEquals(reports.get(i).trainLoss(), lines.get(i).get("train_loss").asDouble());
        }

        Path logs = jobDir.resolve(MetricsSinks.TENSORBOARD_DIR);
        List<Path> files;
        try (var list = Files.list(logs)) {
            files = list.toList();
        }
        assertEquals(1, files.size());
        List<EventFileReader.Event> events = EventFileReader.read(files.get(0));
        int stepsPerEpoch = (int) Math.ceil(455 / 50.0);
        List<Float> accuracy = new ArrayList<>();
        long stepEvents = 0;
        for (EventFileReader.Event e : events) {
            Map<String, Float> s = e.scalars();
            if (s.containsKey("epoch/val_accuracy")) {
                accuracy.add(s.get("epoch/val_accuracy"));
                assertEquals(reports.get(accuracy.size() - 1).epoch(), e.step());
            }
            if (s.containsKey("train/loss")) {
                stepEvents++;
                assertTrue(e.step() >= 1 && e.step() <= 3L * stepsPerEpoch);
            }
        }
        assertEquals(3L * stepsPerEpoch, stepEvents);
        assertEquals(reports.stream().map(r -> (float) r.valAccuracy()).toList(), accuracy);

        assertNotNull(ImageIO.read(jobDir.resolve(MetricsSinks.CHART_FILE).toFile()));
    }

    /** A sink that counts its calls and may fail when closed. */
    static final class Probe implements MetricsSink {
        final RuntimeException failure;
        int epochs;
        boolean closed;

        Probe(RuntimeException failure) {
            this.failure = failure;
        }

        @Override
        public void onEpoch(EpochReport epoch) {
            epochs++;
        }

        @Override
        public void close() {
            closed = true;
            if (failure != null) {
                throw failure;
            }
        }
    }

    @Test
    void closeClosesEverySinkAndReportsTheFirstFailureWithTheOthersSuppressed() {
        RuntimeException first = new IllegalStateException("first");
        RuntimeException second = new IllegalStateException("second");
        Probe a = new Probe(first);
        Probe b = new Probe(null);
        Probe c = new Probe(second);
        MetricsSinks sinks = MetricsSinks.of(a, b, c);
        sinks.onEpoch(new EpochReport(1, 1, 1, 1, 1, 1, 1, 1, 0));
        assertEquals(List.of(1, 1, 1), List.of(a.epochs, b.epochs, c.epochs));
        RuntimeException thrown = assertThrows(RuntimeException.class, sinks::close);
        assertSame(first, thrown);
        assertEquals(List.of(second), List.of(thrown.getSuppressed()));
        assertTrue(a.closed && b.closed && c.closed);
    }

    @Test
    void aJobFolderThatCannotBeCreatedFailsAtOnce() throws IOException {
        Path file = dir.resolve("a-file");
        Files.writeString(file, "x");
        assertThrows(IOException.class, () -> MetricsSinks.forJob(file.resolve("job")));
    }
}
