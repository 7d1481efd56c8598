package io.parallax.coordinator.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.coordinator.JobListener.EpochReport;
import io.parallax.coordinator.JobListener.StepReport;
import io.parallax.coordinator.metrics.EventFileReader.Event;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The event file, read back by {@link EventFileReader}, which shares no code with the writer. */
class TensorBoardWriterTest {

    @TempDir
    Path dir;

    static StepReport step(int epoch, long step, double loss, int rows, long nanos) {
        return new StepReport(epoch, step, 2, 1, loss, rows, 0, 0, nanos);
    }

    static EpochReport epoch(int epoch, double trainLoss, double valLoss, double valAccuracy, double lr) {
        return new EpochReport(epoch, trainLoss, valLoss, valAccuracy, 1000.0 * epoch, 2.5 * epoch, lr, 2, 0);
    }

    @Test
    void theReaderKnowsTheCrc32cCheckValueAndTensorFlowsMask() {
        // CRC-32C("123456789") = 0xE3069283 (RFC 3720, B.4); the mask rotates right by 15 and adds
        assertEquals(0xE3069283, EventFileReader.crc32c("123456789".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(EventFileReader.masked(0xE3069283), TfRecordWriter.mask(0xE3069283));
        assertEquals(0xa282ead8, EventFileReader.masked(0));
    }

    @Test
    void everyStepAndEpochIsAScalarUnderItsTag() throws IOException {
        Path file;
        double before = System.currentTimeMillis() / 1000.0;
        try (TensorBoardWriter tb = new TensorBoardWriter(dir)) {
            file = tb.file();
            tb.onStep(step(0, 1, 2.25, 64, 2_000_000));
            tb.onStep(step(0, 2, 1.75, 36, 1_000_000));
            tb.onEpoch(epoch(1, 2.0, 1.5, 0.625, 0.01));
            tb.onStep(step(1, 3, 1.25, 64, 4_000_000));
            tb.onEpoch(epoch(2, 1.25, 1.0, 0.75, 0.005));
        }
        double after = System.currentTimeMillis() / 1000.0;

        assertTrue(file.getFileName().toString().startsWith("events.out.tfevents."), file.toString());
        assertEquals(dir, file.getParent());
        List<Event> events = EventFileReader.read(file);
        assertEquals(6, events.size());
        Event header = events.get(0);
        assertEquals("brain.Event:2", header.fileVersion());
        assertTrue(header.scalars().isEmpty());
        for (Event e : events) {
            assertTrue(e.wallTime() >= before - 0.001 && e.wallTime() <= after + 0.001, "wall time " + e.wallTime());
        }

        assertEquals(1, events.get(1).step());
        assertEquals(Map.of("train/loss", 2.25f, "train/samples_per_second", 32_000f), events.get(1).scalars());
        assertEquals(2, events.get(2).step());
        assertEquals(Map.of("train/loss", 1.75f, "train/samples_per_second", 36_000f), events.get(2).scalars());
        assertEquals(1, events.get(3).step());
        assertEquals(Map.of("epoch/train_loss", 2.0f, "epoch/val_loss", 1.5f, "epoch/val_accuracy", 0.625f,
                "epoch/learning_rate", 0.01f, "epoch/samples_per_second", 1000f), events.get(3).scalars());
        assertEquals(3, events.get(4).step());
        assertEquals(16_000f, events.get(4).scalars().get("train/samples_per_second"));
        assertEquals(2, events.get(5).step());
        assertEquals(0.75f, events.get(5).scalars().get("epoch/val_accuracy"));
        assertNull(events.get(5).fileVersion());
    }

    @Test
    void everyNStepsLogsRowWeightedMeansAndTheRestAtTheEpochsEnd() throws IOException {
        Path file;
        try (TensorBoardWriter tb = new TensorBoardWriter(dir, 3)) {
            file = tb.file();
            for (int s = 1; s <= 5; s++) {
                // rows 10, 20, 30, 40, 50; loss = step number; 1 ms per step
                tb.onStep(step(0, s, s, 10 * s, 1_000_000));
            }
            tb.onEpoch(epoch(1, 3.0, Double.NaN, Double.NaN, 0.1));
        }
        List<Event> events = EventFileReader.read(file);
        assertEquals(4, events.size());
        assertEquals(3, events.get(1).step());
        // (1*10 + 2*20 + 3*30) / 60 = 140/60; 60 rows in 3 ms
        assertEquals((float) (140.0 / 60), events.get(1).scalars().get("train/loss"));
        assertEquals(20_000f, events.get(1).scalars().get("train/samples_per_second"));
        assertEquals(5, events.get(2).step());
        assertEquals((float) ((4 * 40 + 5 * 50) / 90.0), events.get(2).scalars().get("train/loss"));
        // NaN (no validation) is left out rather than plotted
        assertEquals(List.of("epoch/train_loss", "epoch/learning_rate", "epoch/samples_per_second"),
                List.copyOf(events.get(3).scalars().keySet()));
    }

    @Test
    void eachEpochIsOnDiskBeforeTheWriterCloses() throws IOException {
        try (TensorBoardWriter tb = new TensorBoardWriter(dir, 1000)) {
            assertEquals(1, EventFileReader.read(tb.file()).size());
            tb.onStep(step(0, 1, 0.5, 8, 1000));
            tb.onEpoch(epoch(1, 0.5, 0.4, 0.9, 0.1));
            List<Event> seen = EventFileReader.read(tb.file());
            assertEquals(3, seen.size());
            assertEquals(0.9f, seen.get(2).scalars().get("epoch/val_accuracy"));
        }
    }

    @Test
    void twoWritersInOneFolderWriteTwoFiles() throws IOException {
        try (TensorBoardWriter a = new TensorBoardWriter(dir); TensorBoardWriter b = new TensorBoardWriter(dir)) {
            assertNotEquals(a.file(), b.file());
            try (var files = Files.list(dir)) {
                assertEquals(2, files.filter(p -> p.getFileName().toString().contains("tfevents")).count());
            }
        }
    }

    @Test
    void theReaderRejectsAFlippedBitInTheDataAndInTheLength() throws IOException {
        Path file;
        try (TensorBoardWriter tb = new TensorBoardWriter(dir)) {
            file = tb.file();
            tb.onEpoch(epoch(1, 0.5, 0.4, 0.9, 0.1));
        }
        byte[] good = Files.readAllBytes(file);
        int secondRecord = 12 + (int) good[0] + 4;

        byte[] data = good.clone();
        data[secondRecord + 12 + 3] ^= 0x10;
        Path damaged = dir.resolve("damaged-data");
        Files.write(damaged, data);
        IOException e = assertThrows(IOException.class, () -> EventFileReader.read(damaged));
        assertTrue(e.getMessage().contains("data CRC"), e.getMessage());

        byte[] length = good.clone();
        length[secondRecord] ^= 0x01;
        Path damaged2 = dir.resolve("damaged-length");
        Files.write(damaged2, length);
        e = assertThrows(IOException.class, () -> EventFileReader.read(damaged2));
        assertTrue(e.getMessage().contains("length CRC"), e.getMessage());
    }

    @Test
    void theFileIsNamedAfterTheTimeAndThisHost() throws IOException {
        long before = System.currentTimeMillis() / 1000;
        try (TensorBoardWriter tb = new TensorBoardWriter(dir.resolve("nested/logs"))) {
            String[] parts = tb.file().getFileName().toString().split("\\.", 5);
            assertEquals("events", parts[0]);
            assertEquals("tfevents", parts[2]);
            long seconds = Long.parseLong(parts[3]);
            assertTrue(seconds >= before && seconds <= before + 2, "seconds " + seconds);
            assertEquals(TensorBoardWriter.hostname(), parts[4]);
            assertFalse(parts[4].isEmpty());
        }
    }

    @Test
    void aBadIntervalIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TensorBoardWriter(dir, 0));
        assertTrue(e.getMessage().contains("got 0"), e.getMessage());
    }

    @Test
    void eventsAFullDiskKeptOutAreWrittenInOrderOnceThereIsRoomAndAreNotRetriedEveryStep() throws IOException {
        Path file = dir.resolve("events.out.tfevents.1.test");
        FillingChannel disk = new FillingChannel(file);
        disk.room = 0; // full from the start: even the file-version record waits
        try (TensorBoardWriter tb = new TensorBoardWriter(
                new TensorBoardWriter.EventFile(file, new RecoveringAppender("TensorBoard event file", disk)), 1)) {
            for (int s = 1; s <= 3000; s++) { // ~200 KB of step events, past the 64 KiB flush point
                tb.onStep(step(0, s, 1.0 / s, 64, 1_000_000));
            }
            tb.onEpoch(epoch(1, 0.5, 0.4, 0.9, 0.01));
            assertTrue(tb.failure().isPresent());
            assertEquals(0, Files.size(file));
            assertTrue(disk.writesFailed <= 3, "tried again " + disk.writesFailed + " times in one epoch");
            disk.room = Long.MAX_VALUE;
            tb.onStep(step(1, 3001, 0.1, 64, 1_000_000));
            tb.onEpoch(epoch(2, 0.25, 0.2, 0.95, 0.01));
            assertTrue(tb.failure().isEmpty());
        }
        List<Event> events = EventFileReader.read(file);
        assertEquals("brain.Event:2", events.get(0).fileVersion());
        assertEquals(1 + 3000 + 1 + 1 + 1, events.size());
        assertEquals(3000, events.get(3000).step());
        assertEquals(1, events.get(3001).step(), "epoch 1's scalars after its steps");
        assertEquals(2, events.get(events.size() - 1).step());
    }
}
