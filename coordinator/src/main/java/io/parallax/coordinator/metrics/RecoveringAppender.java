package io.parallax.coordinator.metrics;

import io.parallax.engine.io.ReplacingFile;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * A file written record by record as a job runs (metrics lines, TensorBoard events) that outlives
 * a full disk: records that cannot be written wait in memory and go out with a later
 * {@link #flush}, after the file has been cut back to its last whole record. A reader never sees a
 * torn record with more behind it — a JSON line cut in half, or a TFRecord whose CRC fails, after
 * which TensorBoard reads no further.
 *
 * <p>That needs a regular file. Standard output, a device or a pipe is written as a stream:
 * there the first failure is the last, and nothing more is written.
 */
final class RecoveringAppender implements Closeable {

    /** What may wait for room on the disk; past it the file is given up on. */
    static final int MAX_PENDING_BYTES = 16 << 20;

    private final String name;
    private final FileChannel channel;
    private final OutputStream stream;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    /** Bytes of whole records in the file. */
    private long complete;
    /** Why the last flush failed; null once everything is written. */
    private IOException failure;
    /** Set when nothing more will be written. */
    private IOException gaveUp;
    private boolean closed;

    /** For tests: records go to {@code channel} from its position 0. */
    RecoveringAppender(String name, FileChannel channel) {
        this.name = name;
        this.channel = channel;
        this.stream = null;
    }

    private RecoveringAppender(String name, OutputStream stream) {
        this.name = name;
        this.channel = null;
        this.stream = stream;
    }

    /**
     * Creates {@code file}, or truncates it. {@code name} says what it is in messages ("metrics
     * file runs/x/metrics.jsonl").
     */
    static RecoveringAppender create(Path file, String name) throws IOException {
        if (ReplacingFile.isStandardOutput(file)) {
            return new RecoveringAppender(name, ReplacingFile.standardOutput());
        }
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            return new RecoveringAppender(name, Files.newOutputStream(file));
        }
        return new RecoveringAppender(name, FileChannel.open(file, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE));
    }

    /** Opens the regular file {@code file} to append after its first {@code keep} bytes, cutting off the rest. */
    static RecoveringAppender keeping(Path file, long keep, String name) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            channel.truncate(keep);
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        RecoveringAppender appender = new RecoveringAppender(name, channel);
        appender.complete = Math.min(keep, channel.size());
        return appender;
    }

    /** Creates {@code file}, which must not exist yet. */
    static RecoveringAppender createNew(Path file, String name) throws IOException {
        return new RecoveringAppender(name, FileChannel.open(file, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE));
    }

    /** Adds a whole record; it reaches the file at the next {@link #flush}. */
    void append(byte[] record) {
        if (gaveUp != null || closed) {
            return;
        }
        if (pending.size() + (long) record.length > MAX_PENDING_BYTES) {
            giveUp((failure == null ? "" : reason(failure.getCause()) + "; ") + "more than "
                    + (MAX_PENDING_BYTES >> 20) + " MiB waited for room, so nothing more is written to it");
            return;
        }
        pending.write(record, 0, record.length);
    }

    /** Bytes appended and not written yet. */
    int pendingBytes() {
        return pending.size();
    }

    /**
     * Writes what is pending, and with {@code durable} forces it to the disk, so that what a
     * checkpoint says was done is there after a power cut too. Never throws: a failure is kept
     * for {@link #failure()} and the records for the next flush.
     */
    void flush(boolean durable) {
        if (gaveUp != null || closed) {
            return;
        }
        if (stream != null) {
            flushStream();
            return;
        }
        if (pending.size() == 0 && failure == null && !durable) {
            return;
        }
        ByteBuffer bytes = ByteBuffer.wrap(pending.toByteArray());
        long at = complete;
        try {
            while (bytes.hasRemaining()) {
                at += channel.write(bytes, at);
            }
            if (failure != null) {
                // an earlier torn write may have left bytes past what was just rewritten
                channel.truncate(at);
            }
            if (durable) {
                channel.force(false);
            }
            complete = at;
            pending.reset();
            failure = null;
        } catch (IOException e) {
            failure = new IOException(name + ": " + reason(e) + "; what could not be written waits for room", e);
            try {
                channel.truncate(complete);
            } catch (IOException again) {
                // the next write starts at the same place and covers the torn bytes
                failure.addSuppressed(again);
            }
        }
    }

    private void flushStream() {
        try {
            pending.writeTo(stream);
            stream.flush();
            pending.reset();
        } catch (IOException e) {
            // a stream cannot be cut back to its last whole record: what follows would read as garbage
            failure = new IOException(name + ": " + reason(e), e);
            giveUp(reason(e) + "; nothing more is written to it");
        }
    }

    private void giveUp(String why) {
        gaveUp = new IOException(name + ": " + why, failure);
        pending.reset();
    }

    /** Why records are not in the file yet, or will never be; empty when all are written. */
    Optional<IOException> failure() {
        return Optional.ofNullable(gaveUp != null ? gaveUp : failure);
    }

    /** Writes what is pending, forced to the disk, and closes the file. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        flush(true);
        closed = true;
        try {
            if (channel != null) {
                channel.close();
            } else {
                stream.close();
            }
        } catch (IOException e) {
            if (gaveUp == null && failure == null) {
                failure = new IOException(name + ": " + reason(e), e);
            }
        }
        if (gaveUp == null && failure != null) {
            // it waited for room that did not come in time
            throw new IOException(name + ": " + pending.size() + " bytes of its last records could not be written ("
                    + reason(failure.getCause()) + ")", failure);
        }
        Optional<IOException> left = failure();
        if (left.isPresent()) {
            throw left.get();
        }
    }

    private static String reason(Throwable e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
