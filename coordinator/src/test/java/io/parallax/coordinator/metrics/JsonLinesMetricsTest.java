package io.parallax.coordinator.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.parallax.coordinator.JobListener.EpochReport;
import io.parallax.coordinator.JobListener.StepPhases;
import io.parallax.coordinator.JobListener.StepReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One strict-JSON object per epoch, parsed back. */
class JsonLinesMetricsTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    static List<JsonNode> lines(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    @Test
    void eachEpochIsALineWithEveryFieldAndIsOnDiskAtOnce() throws IOException {
        Path file = dir.resolve("sub/metrics.jsonl");
        try (JsonLinesMetrics metrics = new JsonLinesMetrics(file)) {
            metrics.onStep(new StepReport(0, 1, 2, 1, 0.7, 64, 3_000_000, 4096, 9_000_000));
            metrics.onStep(new StepReport(0, 2, 2, 1, 0.6, 64, 1_000_000, 2048, 9_000_000));
            metrics.onEpoch(new EpochReport(1, 0.65, 0.61, 0.8125, 12_345.5, 2.25, 0.01, 2, 1));
            List<JsonNode> seen = lines(file);
            assertEquals(1, seen.size());
            JsonNode first = seen.get(0);
            assertEquals(1, first.get("epoch").asInt());
            assertEquals(0.65, first.get("train_loss").asDouble());
            assertEquals(0.61, first.get("val_loss").asDouble());
            assertEquals(0.8125, first.get("val_accuracy").asDouble());
            assertEquals(12_345.5, first.get("samples_per_second").asDouble());
            assertEquals(2.25, first.get("elapsed_seconds").asDouble());
            assertEquals(0.01, first.get("learning_rate").asDouble());
            assertEquals(2, first.get("workers").asInt());
            assertEquals(1, first.get("redone_steps").asLong());
            assertEquals(2.0, first.get("plane_ms_per_step").asDouble());
            assertEquals(3072, first.get("plane_bytes_per_step").asLong());

            // the plane counters start again for the next epoch
            metrics.onStep(new StepReport(1, 3, 2, 1, 0.5, 64, 5_000_000, 100, 9_000_000));
            metrics.onEpoch(new EpochReport(2, 0.5, 0.55, 0.875, 13_000, 4.5, 0.005, 2, 1));
        }
        List<JsonNode> all = lines(file);
        assertEquals(2, all.size());
        assertEquals(2, all.get(1).get("epoch").asInt());
        assertEquals(5.0, all.get(1).get("plane_ms_per_step").asDouble());
        assertEquals(100, all.get(1).get("plane_bytes_per_step").asLong());
    }

    @Test
    void theStepPhasesAreMeansOverTheEpochsStepsAndStartAgainEachEpoch() throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        try (JsonLinesMetrics metrics = new JsonLinesMetrics(file)) {
            metrics.onStep(new StepReport(0, 1, 2, 1, 0.7, 64, 0, 0, 4_000_000,
                    new StepPhases(3_000_000, 100_000, 500_000, 200_000, 5_000_000, 40_000)));
            metrics.onStep(new StepReport(0, 2, 2, 1, 0.6, 64, 0, 0, 2_000_000,
                    new StepPhases(1_000_000, 300_000, 300_000, 0, 1_000_000, 20_000)));
            metrics.onEpoch(new EpochReport(1, 0.65, 0.61, 0.8, 1000, 1, 0.01, 2, 0));
            metrics.onStep(new StepReport(1, 3, 2, 1, 0.5, 64, 0, 0, 1_000_000,
                    new StepPhases(700_000, 10_000, 20_000, 30_000, 1_200_000, 5_000)));
            metrics.onEpoch(new EpochReport(2, 0.5, 0.55, 0.875, 1000, 2, 0.01, 2, 0));
        }
        List<JsonNode> all = lines(file);
        JsonNode first = all.get(0);
        assertEquals(2, first.get("steps").asLong());
        assertEquals(3.0, first.get("step_ms").asDouble(), 1e-12);
        assertEquals(2.0, first.get("wait_ms").asDouble(), 1e-12);
        assertEquals(0.1, first.get("fetch_ms").asDouble(), 1e-12);
        assertEquals(3.0, first.get("compute_ms").asDouble(), 1e-12);
        assertEquals(0.03, first.get("push_ms").asDouble(), 1e-12);
        assertEquals(0.2, first.get("sum_ms").asDouble(), 1e-12);
        assertEquals(0.4, first.get("update_ms").asDouble(), 1e-12);
        JsonNode second = all.get(1);
        assertEquals(1, second.get("steps").asLong());
        assertEquals(1.0, second.get("step_ms").asDouble(), 1e-12);
        assertEquals(0.7, second.get("wait_ms").asDouble(), 1e-12);
        assertEquals(1.2, second.get("compute_ms").asDouble(), 1e-12);
    }

    @Test
    void nanAndInfinityAreWrittenAsNull() throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        try (JsonLinesMetrics metrics = new JsonLinesMetrics(file)) {
            metrics.onEpoch(new EpochReport(1, Double.POSITIVE_INFINITY, Double.NaN, Double.NaN, 10, 1, 0.1, 1, 0));
        }
        String text = Files.readString(file);
        assertTrue(!text.contains("NaN") && !text.contains("Infinity"), text);
        JsonNode line = lines(file).get(0);
        assertTrue(line.get("train_loss").isNull(), text);
        assertTrue(line.get("val_loss").isNull(), text);
        assertTrue(line.get("val_accuracy").isNull(), text);
        assertTrue(line.get("plane_ms_per_step").isNull(), "no steps, no mean: " + text);
        assertEquals(10.0, line.get("samples_per_second").asDouble());
    }

    @Test
    void linesAFullDiskKeptOutAreWrittenAfterTheOthersOnceThereIsRoom() throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        FillingChannel disk = new FillingChannel(file);
        try (JsonLinesMetrics metrics = new JsonLinesMetrics(new RecoveringAppender("metrics file " + file, disk))) {
            metrics.onEpoch(new EpochReport(1, 0.9, 0.8, 0.5, 10, 1, 0.1, 1, 0));
            disk.room = Files.size(file) + 20; // the next line tears
            metrics.onEpoch(new EpochReport(2, 0.7, 0.6, 0.6, 10, 2, 0.1, 1, 0));
            assertEquals(1, disk.writesFailed);
            assertEquals(1, lines(file).size(), "whole lines only");
            assertTrue(metrics.failure().orElseThrow().getMessage().contains("No space left on device"));
            metrics.onEpoch(new EpochReport(3, 0.5, 0.4, 0.7, 10, 3, 0.1, 1, 0));
            disk.room = Long.MAX_VALUE;
            metrics.onEpoch(new EpochReport(4, 0.3, 0.2, 0.8, 10, 4, 0.1, 1, 0));
            assertTrue(metrics.failure().isEmpty());
        }
        List<JsonNode> all = lines(file);
        assertEquals(4, all.size());
        for (int e = 1; e <= 4; e++) {
            assertEquals(e, all.get(e - 1).get("epoch").asInt());
        }
    }

    @Test
    void aResumedRunKeepsTheEarlierLinesByteForByteAndDropsATornOne() throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        String one = "{\"epoch\":1,\"train_loss\":0.9}\n";
        String two = "{\"epoch\":2,\"train_loss\":0.8}\r\n";
        Files.writeString(file, one + two + "{\"epoch\":3,\"train_lo");
        assertEquals(2, JsonLinesMetrics.read(file, 5).size(), "a torn line is no epoch");
        try (JsonLinesMetrics metrics = new JsonLinesMetrics(file, 5)) {
            assertEquals(one + two, Files.readString(file));
            metrics.onEpoch(new EpochReport(3, 0.7, 0.6, 0.6, 10, 3, 0.1, 1, 0));
        }
        assertTrue(Files.readString(file).startsWith(one + two + "{\"epoch\":3,"), Files.readString(file));
        assertEquals(3, lines(file).size());

        // a line whose newline never made it to the disk is torn too, even though it parses
        Files.writeString(file, one + "{\"epoch\":2}");
        assertEquals(1, JsonLinesMetrics.read(file, 5).size());
        // and a run resumed after epoch 1 drops the later lines
        Files.writeString(file, one + two);
        new JsonLinesMetrics(file, 1).close();
        assertEquals(one, Files.readString(file));
    }

    @Test
    void aResumedRunWritesAgainTheEpochsOfItsRecordThatATornLineLost() throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        String one = "{\"epoch\":1,\"train_loss\":0.9}\n";
        String two = "{\"epoch\":2,\"train_loss\":0.8}\n";
        // a power cut in the middle of epoch 3's line; the record, written before it, has epoch 3
        Files.writeString(file, one + two + "{\"epoch\":3,\"train_lo");
        List<EpochReport> record = List.of(new EpochReport(1, 0.9, 0.8, 0.5, 10, 1, 0.1, 2, 0),
                new EpochReport(2, 0.8, 0.7, 0.6, 10, 2, 0.1, 2, 0), new EpochReport(3, 0.7, 0.6, 0.7, 10, 3, 0.1, 2, 0));
        try (JsonLinesMetrics metrics = new JsonLinesMetrics(file, record)) {
            metrics.onEpoch(new EpochReport(4, 0.6, 0.5, 0.8, 10, 4, 0.1, 2, 0));
        }
        assertTrue(Files.readString(file).startsWith(one + two), "the whole lines are kept as they were");
        List<JsonNode> all = lines(file);
        assertEquals(List.of(1, 2, 3, 4), all.stream().map(n -> n.get("epoch").asInt()).toList());
        JsonNode three = all.get(2);
        assertEquals(0.7, three.get("train_loss").asDouble());
        assertEquals(0.7, three.get("val_accuracy").asDouble());
        assertEquals(2, three.get("workers").asInt());
        // what only the steps knew is not made up
        assertTrue(three.get("steps").isNull() && three.get("step_ms").isNull() && three.get("redone_steps").isNull(),
                three.toString());
        assertEquals(JSON.readTree(lines(file).get(3).toString()).size(), three.size(), "the same fields as a line "
                + "written as the epoch ended");
    }

    @Test
    void aResumedJobsMetricsFileHoldsEveryEpochOnceAfterATornLastLine() throws Exception {
        Path file = dir.resolve(MetricsSinks.METRICS_FILE);
        Files.writeString(file, "{\"epoch\":1,\"train_loss\":0.9}\n{\"epoch\":2,\"trai");
        io.parallax.proto.v1.Job.Builder job = io.parallax.proto.v1.Job.newBuilder().setId("job-000001");
        for (int e = 1; e <= 2; e++) {
            job.addEpochs(io.parallax.proto.v1.EpochMetrics.newBuilder().setEpoch(e).setTrainLoss(1.0 - e / 10.0));
        }
        io.parallax.coordinator.JobListener listener =
                io.parallax.coordinator.service.JobListenerFactory.jsonLines().create(job.build(), dir);
        ((AutoCloseable) listener).close();
        assertEquals(List.of(1, 2), lines(file).stream().map(n -> n.get("epoch").asInt()).toList());
        assertEquals(0.8, lines(file).get(1).get("train_loss").asDouble(), 1e-12);
    }
}
