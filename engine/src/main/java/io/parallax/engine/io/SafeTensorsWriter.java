package io.parallax.engine.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.parallax.engine.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Writes a safetensors file: collect tensors ({@link #putFloats}, {@link #putLongs}) and
 * metadata, then {@link #write}.
 *
 * <p>Layout as the reference implementation writes it: the header is compact JSON with
 * {@code __metadata__} first, padded with spaces to a multiple of 8 bytes; tensors are laid out
 * by descending dtype (so 8-byte types come first and stay 8-byte aligned), then by name in
 * byte order, back to back from offset 0.
 *
 * <p>The file is written to a temporary file in the same directory, forced to disk, then moved
 * over the target atomically ({@link ReplacingFile}): a crash leaves either the old file or the
 * new one, never half of one. Tensor data is copied at {@link #write} time, in bounded chunks.
 */
public final class SafeTensorsWriter {

    private static final int CHUNK_BYTES = 1 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Entry(String name, DType dtype, int[] shape, Tensor tensor, float[] floats, long[] longs) {
        long elements() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }

        byte[] nameBytes() {
            return name.getBytes(StandardCharsets.UTF_8);
        }
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private String checksumKey;

    /** Adds a float32 tensor under {@code name}, with its own shape; its values are read at {@link #write}. */
    public SafeTensorsWriter putFloats(String name, Tensor tensor) {
        return add(new Entry(name, DType.F32, tensor.shape(), tensor, null, null));
    }

    /** Adds a float32 tensor of {@code shape} holding {@code values} (not copied until {@link #write}). */
    public SafeTensorsWriter putFloats(String name, float[] values, int... shape) {
        return add(checked(new Entry(name, DType.F32, shape.clone(), null, values, null), values.length));
    }

    /** Adds an int64 tensor of {@code shape} ({@code []} for a scalar) holding {@code values}. */
    public SafeTensorsWriter putLongs(String name, long[] values, int... shape) {
        return add(checked(new Entry(name, DType.I64, shape.clone(), null, null, values), values.length));
    }

    /** Adds a metadata entry (safetensors metadata is string to string). */
    public SafeTensorsWriter putMetadata(String key, String value) {
        if (key == null || value == null) {
            throw new IllegalArgumentException("metadata key and value must not be null, got " + key + "=" + value);
        }
        metadata.put(key, value);
        return this;
    }

    /**
     * Makes {@link #write} put the CRC-32C of the whole file into the metadata under {@code key},
     * as 8 lower-case hex digits, summed with those digits as {@code 00000000}: the length, the
     * header (metadata, names, shapes) and every tensor's bytes.
     * {@link SafeTensorsReader#verifyChecksum} then tells a file whose bytes changed after it was
     * written from one that was written so. The digits are filled in after the data, in place:
     * the file must be a regular file (a checkpoint), not a stream.
     */
    public SafeTensorsWriter checksum(String key) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("a checksum needs a metadata key, got '" + key + "'");
        }
        checksumKey = key;
        return this;
    }

    private static Entry checked(Entry e, int length) {
        for (int d : e.shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + e.name + "': negative dimension in shape "
                        + Arrays.toString(e.shape));
            }
        }
        if (e.elements() != length) {
            throw new IllegalArgumentException("tensor '" + e.name + "': shape " + Arrays.toString(e.shape)
                    + " holds " + e.elements() + " values, got " + length);
        }
        return e;
    }

    private SafeTensorsWriter add(Entry e) {
        if (e.name == null || e.name.equals(SafeTensorsReader.METADATA_KEY)) {
            throw new IllegalArgumentException("'" + e.name + "' cannot name a tensor");
        }
        if (entries.putIfAbsent(e.name, e) != null) {
            throw new IllegalArgumentException("tensor '" + e.name + "' was already added");
        }
        return this;
    }

    /** The tensors in file order: descending dtype, then name by UTF-8 bytes. */
    private List<Entry> ordered() {
        List<Entry> list = new ArrayList<>(entries.values());
        list.sort(Comparator.comparing(Entry::dtype, Comparator.reverseOrder())
                .thenComparing(Entry::nameBytes, Arrays::compareUnsigned));
        return list;
    }

    /** The header bytes, padded with spaces to a multiple of 8. */
    byte[] header() throws IOException {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafeTensorsReader.METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Entry e : ordered()) {
            ObjectNode node = root.putObject(e.name);
            node.put("dtype", e.dtype.name());
            ArrayNode shape = node.putArray("shape");
            for (int d : e.shape) {
                shape.add(d);
            }
            long end = offset + e.elements() * e.dtype.bytes();
            node.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = JSON.writeValueAsBytes(root);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    /**
     * Writes the file atomically (temporary file, fsync, rename), replacing any file at
     * {@code path}; a link is followed and a device written in place ({@link ReplacingFile}).
     */
    public void write(Path path) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        if (checksumKey != null) {
            putMetadata(checksumKey, CHECKSUM_PLACEHOLDER);
        }
        ReplacingFile.write(path, out -> {
            byte[] header = header();
            CRC32C crc = new CRC32C();
            buffer.clear();
            buffer.putLong(header.length);
            crc.update(buffer.flip().duplicate());
            writeAll(out, buffer);
            crc.update(header);
            writeAll(out, ByteBuffer.wrap(header));
            for (Entry e : ordered()) {
                forEachChunk(e, buffer, chunk -> {
                    crc.update(chunk.duplicate());
                    writeAll(out, chunk);
                });
            }
            if (checksumKey != null) {
                int at = SafeTensorsReader.checksumDigitsAt(header, checksumKey);
                ByteBuffer digits = ByteBuffer.wrap(String.format("%08x", crc.getValue())
                        .getBytes(StandardCharsets.US_ASCII));
                try {
                    while (digits.hasRemaining()) {
                        out.write(digits, 8 + at + digits.position());
                    }
                } catch (IOException e) {
                    throw new IOException("the checksum could not be filled in (" + e.getMessage() + "): a file with "
                            + "a checksum is written to a regular file, not a stream", e);
                }
            }
        });
    }

    /** The checksum's digits while the file is summed. */
    static final String CHECKSUM_PLACEHOLDER = "00000000";

    private interface ChunkSink {
        void accept(ByteBuffer chunk) throws IOException;
    }

    /** Hands the entry's little-endian bytes to {@code sink} in chunks of at most {@link #CHUNK_BYTES}. */
    private static void forEachChunk(Entry e, ByteBuffer buffer, ChunkSink sink) throws IOException {
        long n = e.elements();
        int perChunk = CHUNK_BYTES / e.dtype.bytes();
        float[] chunk = e.tensor != null ? new float[(int) Math.min(n, perChunk)] : null;
        for (long done = 0; done < n; ) {
            int count = (int) Math.min(perChunk, n - done);
            buffer.clear();
            if (e.longs != null) {
                buffer.asLongBuffer().put(e.longs, (int) done, count);
            } else if (e.floats != null) {
                buffer.asFloatBuffer().put(e.floats, (int) done, count);
            } else {
                e.tensor.storage().copyToHost(e.tensor.offset() + done, chunk, 0, count);
                buffer.asFloatBuffer().put(chunk, 0, count);
            }
            buffer.limit(count * e.dtype.bytes());
            sink.accept(buffer);
            done += count;
        }
    }

    private static void writeAll(FileChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }
}
