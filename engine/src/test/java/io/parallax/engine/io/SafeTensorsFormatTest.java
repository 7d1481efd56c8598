package io.parallax.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.engine.backend.Backends;
import io.parallax.engine.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors reader and writer against the format's specification. */
class SafeTensorsFormatTest {

    @TempDir
    Path dir;

    @Test
    void writesTheHeaderAsTheReferenceImplementation() throws IOException {
        SafeTensorsWriter w = new SafeTensorsWriter()
                .putFloats("2.weight", new float[] {1, 2}, 1, 2)
                .putFloats("10.weight", new float[] {3}, 1)
                .putLongs("1.num_batches_tracked", new long[] {7})
                .putMetadata("format", "pt");
        Path file = dir.resolve("m.safetensors");
        w.write(file);
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header padded to a multiple of 8");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        // metadata first, then I64 before F32, then names in byte order ("10." sorts before "2.")
        String json = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"1.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
                + "\"10.weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},"
                + "\"2.weight\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[12,20]}}";
        assertEquals(json + " ".repeat((int) n - json.length()), header);
        ByteBuffer data = ByteBuffer.wrap(bytes, 8 + (int) n, 20).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(7L, data.getLong());
        assertEquals(3f, data.getFloat());
        assertEquals(1f, data.getFloat());
        assertEquals(2f, data.getFloat());
        assertEquals(8 + n + 20, bytes.length);
    }

    @Test
    void roundTripIsBitExact() throws IOException {
        float[] odd = {Float.intBitsToFloat(0x7fc12345), -0f, Float.MIN_VALUE, Float.NEGATIVE_INFINITY, 1.1f, -3e38f};
        Tensor t = Tensor.of(Backends.cpu(), new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
        Path file = dir.resolve("r.safetensors");
        new SafeTensorsWriter().putFloats("odd", odd, 2, 3).putFloats("t", t).putFloats("empty", new float[0], 0, 4)
                .putLongs("n", new long[] {Long.MIN_VALUE, -1, Long.MAX_VALUE}, 3).putMetadata("k", "välue ✓")
                .write(file);
        try (SafeTensorsReader r = SafeTensorsReader.open(file)) {
            assertEquals(Map.of("k", "välue ✓"), r.metadata());
            assertEquals(List.of("n", "empty", "odd", "t"), r.tensors().stream().map(TensorInfo::name).toList());
            assertEquals(DType.I64, r.info("n").dtype());
            assertArrayEquals(new long[] {2, 3}, r.info("odd").shape());
            assertArrayEquals(new long[] {0, 4}, r.info("empty").shape());
            float[] back = r.readFloats("odd");
            for (int i = 0; i < odd.length; i++) {
                assertEquals(Float.floatToRawIntBits(odd[i]), Float.floatToRawIntBits(back[i]), "element " + i);
            }
            assertArrayEquals(t.toArray(), r.readFloats("t"));
            assertEquals(0, r.readFloats("empty").length);
            assertArrayEquals(new long[] {Long.MIN_VALUE, -1, Long.MAX_VALUE}, r.readLongs("n"));
            Tensor into = Tensor.zeros(Backends.cpu(), 3, 2);
            r.readInto("t", into);
            assertArrayEquals(t.toArray(), into.toArray());
            assertThrows(SafeTensorsException.class, () -> r.readLongs("t"));
            assertThrows(SafeTensorsException.class, () -> r.readFloats("n"));
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> r.info("nope"));
            assertTrue(e.getMessage().contains("r.safetensors") && e.getMessage().contains("'nope'"), e.getMessage());
        }
    }

    @Test
    void largeTensorsAreReadAndWrittenInChunks() throws IOException {
        // more than one 1 MiB chunk, and a count that does not divide it
        float[] values = new float[700_001];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.5f - 7f;
        }
        Path file = dir.resolve("big.safetensors");
        new SafeTensorsWriter().putFloats("x", Tensor.of(Backends.cpu(), values, values.length)).write(file);
        try (SafeTensorsReader r = SafeTensorsReader.open(file)) {
            assertArrayEquals(values, r.readFloats("x"));
        }
    }

    @Test
    void readsF64F16Bf16AsFloatAndI32AsLong() throws IOException {
        ByteBuffer data = ByteBuffer.allocate(16 + 8 + 8 + 8).order(ByteOrder.LITTLE_ENDIAN);
        data.putDouble(0.1).putDouble(-2.5);
        // F16: 1.0, -2.0, 65504 (max), 2^-24 (smallest subnormal)
        data.putShort((short) 0x3c00).putShort((short) 0xc000).putShort((short) 0x7bff).putShort((short) 0x0001);
        // BF16: 1.0, -0.5, +inf, 3.140625
        data.putShort((short) 0x3f80).putShort((short) 0xbf00).putShort((short) 0x7f80).putShort((short) 0x4049);
        data.putInt(-5).putInt(1 << 30);
        String header = "{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[16,24]},"
                + "\"c\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]},"
                + "\"d\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[32,40]}}";
        Path file = file(header, data.array());
        try (SafeTensorsReader r = SafeTensorsReader.open(file)) {
            assertArrayEquals(new float[] {0.1f, -2.5f}, r.readFloats("a"));
            assertArrayEquals(new float[] {1f, -2f, 65504f, 0x1p-24f}, r.readFloats("b"));
            assertArrayEquals(new float[] {1f, -0.5f, Float.POSITIVE_INFINITY, 3.140625f}, r.readFloats("c"));
            assertArrayEquals(new long[] {-5, 1 << 30}, r.readLongs("d"));
        }
    }

    @Test
    void halfFloatsConvertExactly() {
        assertEquals(0f, HalfFloats.f16ToFloat((short) 0));
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(HalfFloats.f16ToFloat((short) 0x8000)));
        assertEquals(0x1p-14f, HalfFloats.f16ToFloat((short) 0x0400)); // smallest normal
        assertEquals(0x3ffp-24f, HalfFloats.f16ToFloat((short) 0x03ff)); // largest subnormal
        assertEquals(Float.NEGATIVE_INFINITY, HalfFloats.f16ToFloat((short) 0xfc00));
        assertTrue(Float.isNaN(HalfFloats.f16ToFloat((short) 0x7e00)));
        assertEquals(0.333251953125f, HalfFloats.f16ToFloat((short) 0x3555));
    }

    // ---- malformed files: a clear SafeTensorsException naming the file (and the tensor) ----

    @Test
    void rejectsHeaderLengthsThatDoNotFitTheFile() throws IOException {
        assertFails(Arrays.copyOf(new byte[] {1, 2, 3}, 3), "too short");
        assertFails(bytes(Long.MAX_VALUE, "{}"), "exceeds");
        assertFails(bytes(-1L, "{}"), "18446744073709551615");
        assertFails(bytes(4000, "{}"), "exceeds the 2 bytes");
        assertFails(bytes(0, ""), "too small");
    }

    @Test
    void rejectsMalformedHeaders() throws IOException {
        assertFails(bytes(2, "[]"), "does not start with '{'");
        assertFails(bytes(5, "{\"a\":"), "not well-formed JSON");
        assertFails(bytes(9, "{} extra!"), "not well-formed JSON");
        assertFails(bytes(4, new byte[] {'{', '"', (byte) 0xc3, '}'}), "not valid UTF-8"); // half an 'é'
        // nesting deep enough to overflow a recursive parser's stack is refused by Jackson's limits
        assertFails(file("{\"a\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}", new byte[0]),
                "not well-formed JSON");
        assertFails(file("{\"__metadata__\":{\"k\":1}}", new byte[0]), "metadata 'k' must be a string");
        assertFails(file("{\"__metadata__\":[1]}", new byte[0]), "must be an object");
        String t = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
        assertFails(file("{\"a\":" + t + ",\"a\":" + t + "}", new byte[8]), "Duplicate field 'a'");
        assertFails(file("{\"w\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]),
                "tensor 'w': unknown dtype 'F33'");
        assertFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4]),
                "tensor 'w': 'shape' must hold non-negative integers");
        assertFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", new byte[4]),
                "tensor 'w': 'shape'");
        assertFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", new byte[4]),
                "tensor 'w': 'data_offsets' must be an array of 2");
        assertFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", new byte[4]),
                "tensor 'w': unknown field 'x'");
        assertFails(file("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "tensor 'w': 'dtype' is missing");
        assertFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4000000000,4000000000,4000000000],"
                + "\"data_offsets\":[0,4]}}", new byte[4]), "tensor 'w': shape [4000000000, 4000000000, 4000000000] is too large");
    }

    @Test
    void rejectsOffsetsThatDoNotTileTheData() throws IOException {
        assertFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", new byte[4]),
                "tensor 'w': shape [2] of F32 needs 8 bytes but data_offsets [0, 4] span 4");
        assertFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", new byte[4]), "tensor 'w'");
        assertFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]),
                "tensor 'b' starts at byte 4 but tensor 'a' ends at 8 (overlap)");
        assertFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", new byte[12]),
                "tensor 'b' starts at byte 8 but tensor 'a' ends at 4 (a hole in the data)");
        assertFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]),
                "the data starts at 0");
        assertFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[12]),
                "tensor 'a' ends at byte 16 but the data section holds only 12 bytes (file truncated?)");
        assertFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[5]),
                "trailing bytes");
    }

    /** Every truncation and many byte flips of a valid file fail cleanly or still read. */
    @Test
    void corruptedFilesNeverFailWithAnythingButAClearException() throws IOException {
        Path good = dir.resolve("good.safetensors");
        new SafeTensorsWriter().putFloats("0.weight", new float[] {1, 2, 3, 4, 5, 6}, 2, 3)
                .putFloats("0.bias", new float[] {1, 2}, 2).putLongs("1.num_batches_tracked", new long[] {3})
                .putMetadata("parallax.model", "{}").write(good);
        byte[] bytes = Files.readAllBytes(good);
        Path bad = dir.resolve("bad.safetensors");
        for (int cut = 0; cut < bytes.length; cut++) {
            Files.write(bad, Arrays.copyOf(bytes, cut));
            IOException e = assertThrows(IOException.class, () -> readAll(bad), "cut at " + cut);
            assertTrue(e.getMessage().startsWith(bad.toString()), e.getMessage());
        }
        java.util.SplittableRandom random = new java.util.SplittableRandom(42);
        int failures = 0;
        for (int trial = 0; trial < 500; trial++) {
            byte[] copy = bytes.clone();
            int at = random.nextInt(copy.length);
            copy[at] = (byte) random.nextInt(256);
            if (trial % 2 == 0) {
                copy[random.nextInt(copy.length)] = (byte) random.nextInt(256);
            }
            Files.write(bad, copy);
            try {
                readAll(bad);
            } catch (SafeTensorsException e) {
                failures++;
                assertTrue(e.getMessage().startsWith(bad.toString()), e.getMessage());
            }
        }
        assertTrue(failures > 125, "most flips of header bytes must be caught, got " + failures);
    }

    private static void readAll(Path file) throws IOException {
        try (SafeTensorsReader r = SafeTensorsReader.open(file)) {
            for (TensorInfo t : r.tensors()) {
                if (t.dtype().readableAsFloat()) {
                    r.readFloats(t.name());
                } else if (t.dtype().readableAsLong()) {
                    r.readLongs(t.name());
                }
            }
        }
    }

    // ---- atomic writes ----

    @Test
    void aFailedWriteLeavesTheOldFileAndNoTemporaryFile() throws IOException {
        Path file = dir.resolve("keep.safetensors");
        new SafeTensorsWriter().putFloats("a", new float[] {1}, 1).write(file);
        byte[] before = Files.readAllBytes(file);
        Tensor failing = Tensor.wrap(new FailingStorage());
        SafeTensorsWriter w = new SafeTensorsWriter().putFloats("a", new float[] {2}, 1).putFloats("b", failing);
        assertThrows(IllegalStateException.class, () -> w.write(file));
        assertArrayEquals(before, Files.readAllBytes(file));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void writtenFilesGetTheUsualPermissions() throws IOException {
        Path plain = Files.write(dir.resolve("plain"), new byte[1]);
        Path file = dir.resolve("p.safetensors");
        new SafeTensorsWriter().putFloats("a", new float[] {1}, 1).write(file);
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(file));
    }

    @Test
    void nullMetadataReadsAsNone() throws IOException {
        try (SafeTensorsReader r = SafeTensorsReader.open(file("{\"__metadata__\":null}", new byte[0]))) {
            assertEquals(Map.of(), r.metadata());
            assertEquals(List.of(), r.tensors());
        }
    }

    @Test
    void writerRejectsBadInput() {
        SafeTensorsWriter w = new SafeTensorsWriter().putFloats("a", new float[] {1}, 1);
        assertThrows(IllegalArgumentException.class, () -> w.putFloats("a", new float[] {1}, 1));
        assertThrows(IllegalArgumentException.class, () -> w.putFloats("__metadata__", new float[] {1}, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> w.putFloats("b", new float[] {1, 2, 3}, 2, 2));
        assertEquals("tensor 'b': shape [2, 2] holds 4 values, got 3", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> w.putLongs("c", new long[0], -1, 0));
    }

    /** A storage whose reads fail, to interrupt a write halfway. */
    private static final class FailingStorage implements io.parallax.engine.tensor.Storage {
        @Override
        public io.parallax.engine.backend.Backend backend() {
            return Backends.cpu();
        }

        @Override
        public long size() {
            return 4;
        }

        @Override
        public void copyFromHost(long offset, float[] src, int srcOffset, int length) {
            throw new IllegalStateException("device lost");
        }

        @Override
        public void copyToHost(long offset, float[] dst, int dstOffset, int length) {
            throw new IllegalStateException("device lost");
        }
    }

    // ---- helpers ----

    private void assertFails(byte[] content, String expected) throws IOException {
        Path file = dir.resolve("broken.safetensors");
        Files.write(file, content);
        assertFails(file, expected);
    }

    private static void assertFails(Path file, String expected) {
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> readAll(file));
        assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    /** A header length field, then {@code header} as UTF-8. */
    private static byte[] bytes(long length, String header) {
        return bytes(length, header.getBytes(StandardCharsets.UTF_8));
    }

    /** A header length field, then the bytes {@code h}. */
    private static byte[] bytes(long length, byte[] h) {
        return ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN).putLong(length).put(h).array();
    }

    /** A file with a well-formed length field, {@code header} padded to 8 with spaces, then {@code data}. */
    private Path file(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        ByteBuffer b = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded).put(h);
        for (int i = h.length; i < padded; i++) {
            b.put((byte) ' ');
        }
        b.put(data);
        Path file = dir.resolve("f" + System.nanoTime() + ".safetensors");
        Files.write(file, b.array());
        return file;
    }
}
