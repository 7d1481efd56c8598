package io.parallax.coordinator.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A file that outlives a full disk: whole records only, none lost once there is room again. */
class RecoveringAppenderTest {

    @TempDir
    Path dir;

    private static byte[] record(String text) {
        return (text + "\n").getBytes(StandardCharsets.UTF_8);
    }

    private static String text(Path file) throws IOException {
        return Files.readString(file, StandardCharsets.UTF_8);
    }

    @Test
    void aFullDiskLeavesWholeRecordsAndTheRestIsWrittenWhenThereIsRoom() throws IOException {
        Path file = dir.resolve("m.jsonl");
        FillingChannel disk = new FillingChannel(file);
        RecoveringAppender out = new RecoveringAppender("metrics file m.jsonl", disk);
        out.append(record("one"));
        out.flush(true);
        assertEquals("one\n", text(file));
        assertTrue(out.failure().isEmpty());

        // room for a few more bytes only: the write tears "two" and fails
        disk.room = 6;
        out.append(record("two"));
        out.flush(true);
        assertEquals(1, disk.writesFailed, "the write must have been tried, and torn");
        assertEquals("one\n", text(file), "the torn record is cut off");
        String why = out.failure().orElseThrow().getMessage();
        assertEquals("metrics file m.jsonl: No space left on device; what could not be written waits for room", why);

        out.append(record("three"));
        out.flush(true);
        assertEquals("one\n", text(file));
        assertTrue(out.failure().isPresent());

        disk.room = Long.MAX_VALUE; // space freed
        out.append(record("four"));
        out.flush(true);
        assertEquals("one\ntwo\nthree\nfour\n", text(file));
        assertTrue(out.failure().isEmpty());
        out.close();
        assertEquals("one\ntwo\nthree\nfour\n", text(file));
    }

    @Test
    void tornBytesThatCouldNotBeCutOffAreWrittenOver() throws IOException {
        Path file = dir.resolve("m.jsonl");
        FillingChannel disk = new FillingChannel(file);
        RecoveringAppender out = new RecoveringAppender("m", disk);
        out.append(record("one"));
        out.flush(false);
        disk.room = 10;
        disk.truncateFails = true;
        out.append(record("a-long-record"));
        out.flush(false);
        assertEquals("one\na-long", text(file), "the torn bytes stay while nothing can be cut");
        assertTrue(out.failure().isPresent());

        disk.truncateFails = false;
        disk.room = Long.MAX_VALUE;
        out.append(record("x"));
        out.close();
        assertEquals("one\na-long-record\nx\n", text(file));
    }

    @Test
    void closingWithRecordsStillWaitingSaysSo() throws IOException {
        Path file = dir.resolve("m.jsonl");
        FillingChannel disk = new FillingChannel(file);
        RecoveringAppender out = new RecoveringAppender("metrics file m.jsonl", disk);
        disk.room = 0;
        out.append(record("one"));
        IOException e = assertThrows(IOException.class, out::close);
        assertEquals("metrics file m.jsonl: 4 bytes of its last records could not be written (No space left on "
                + "device)", e.getMessage());
        assertEquals("", text(file));
    }

    @Test
    void tooMuchWaitingGivesTheFileUpForGood() throws IOException {
        Path file = dir.resolve("events");
        FillingChannel disk = new FillingChannel(file);
        RecoveringAppender out = new RecoveringAppender("TensorBoard event file events", disk);
        out.append(record("first"));
        out.flush(false);
        disk.room = 0;
        byte[] mib = new byte[1 << 20];
        for (int i = 0; i <= RecoveringAppender.MAX_PENDING_BYTES >> 20; i++) {
            out.append(mib);
            out.flush(false);
        }
        String why = out.failure().orElseThrow().getMessage();
        assertEquals("TensorBoard event file events: No space left on device; more than 16 MiB waited for room, "
                + "so nothing more is written to it", why);
        assertEquals(0, out.pendingBytes(), "what waited is dropped");

        disk.room = Long.MAX_VALUE;
        out.append(record("late"));
        out.flush(false);
        assertEquals("first\n", text(file), "a file given up on stays as it was");
        assertThrows(IOException.class, out::close);
    }

    @Test
    void aDeviceIsWrittenAsAStreamAndItsFirstFailureIsItsLast() throws IOException {
        Path full = Path.of("/dev/full"); // every write fails with ENOSPC
        Assumptions.assumeTrue(Files.exists(full) && !Files.isRegularFile(full));
        RecoveringAppender out = RecoveringAppender.create(full, "metrics file /dev/full");
        out.append(record("one"));
        out.flush(false);
        String why = out.failure().orElseThrow().getMessage();
        assertEquals("metrics file /dev/full: No space left on device; nothing more is written to it", why);
        assertThrows(IOException.class, out::close);
    }

    @Test
    void keepingCutsTheFileAfterItsFirstBytesAndAppendsThere() throws IOException {
        Path file = dir.resolve("m.jsonl");
        Files.writeString(file, "one\ntwo\nthr");
        RecoveringAppender out = RecoveringAppender.keeping(file, 8, "m");
        assertEquals("one\ntwo\n", text(file));
        out.append(record("three"));
        out.close();
        assertEquals("one\ntwo\nthree\n", text(file));
        assertFalse(out.failure().isPresent());
    }
}
