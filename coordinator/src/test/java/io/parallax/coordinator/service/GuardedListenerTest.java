package io.parallax.coordinator.service;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.parallax.coordinator.JobListener;
import io.parallax.coordinator.JobListener.EpochReport;
import io.parallax.coordinator.JobListeners;
import io.parallax.coordinator.metrics.JsonLinesMetrics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuardedListenerTest {

    @TempDir
    Path dir;

    private static EpochReport epoch(int e) {
        return new EpochReport(e, 1, 1, 0.5, 100, e, 0.01, 1, 0);
    }

    @Test
    void aMetricsFileThatCannotBeWrittenIsToldToWatchersOnceAndAgainWhenItCatchesUp() throws IOException {
        // a metrics file that cannot write in epochs 2 and 3, as on a disk that fills up and is freed
        List<String> notes = new ArrayList<>();
        JsonLinesMetrics real = new JsonLinesMetrics(dir.resolve("metrics.jsonl"));
        IOException full = new IOException("metrics file metrics.jsonl: No space left on device; what could not "
                + "be written waits for room");
        int[] epochs = {0};
        io.parallax.coordinator.metrics.MetricsSink filling = new io.parallax.coordinator.metrics.MetricsSink() {
            @Override
            public void onEpoch(EpochReport r) {
                epochs[0]++;
                real.onEpoch(r);
            }

            @Override
            public Optional<IOException> failure() {
                return epochs[0] == 2 || epochs[0] == 3 ? Optional.of(full) : Optional.empty();
            }

            @Override
            public void close() throws IOException {
                real.close();
            }
        };
        try (GuardedListener guarded = new GuardedListener("job-000001", filling, notes::add)) {
            guarded.onEpoch(epoch(1));
            assertEquals(List.of(), notes);
            for (int e = 2; e <= 5; e++) {
                guarded.onEpoch(epoch(e));
            }
        }
        assertEquals(List.of("metrics could not be written (metrics file metrics.jsonl: No space left on device; "
                + "what could not be written waits for room); training goes on",
                "metrics are written again, the epochs missed included"), notes);
        assertEquals(5, Files.readAllLines(dir.resolve("metrics.jsonl")).size());
    }

    @Test
    void aRealFullDeviceIsReportedByTheSinkAndToldOnce() throws IOException {
        Path full = Path.of("/dev/full"); // every write fails with ENOSPC
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(full) && !Files.isSymbolicLink(full)
                && !Files.isRegularFile(full));
        List<String> notes = new ArrayList<>();
        // as the coordinator hands it over: the metrics files with the console printer beside them
        JobListener metrics = JobListeners.of(new JsonLinesMetrics(full), new JobListener() { });
        try (GuardedListener guarded = new GuardedListener("job-000002", metrics, notes::add)) {
            guarded.onEpoch(epoch(1));
            guarded.onEpoch(epoch(2));
        }
        assertEquals(List.of("metrics could not be written (metrics file /dev/full: No space left on device; nothing "
                + "more is written to it); training goes on"), notes);
    }
}
