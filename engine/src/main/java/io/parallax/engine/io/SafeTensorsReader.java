package io.parallax.engine.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.parallax.engine.tensor.Tensor;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Reads a safetensors file: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * ({@code {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {..}}}),
 * then the little-endian tensor data, offsets counted from its start.
 *
 * <p>{@link #open} validates the whole header before anything is read: the length against the
 * file's size (so a garbage length cannot make us allocate gigabytes), strict JSON without
 * duplicate keys, known dtypes, shapes whose byte size matches {@code data_offsets}, and offsets
 * that tile the data section exactly (no overlap, no hole, nothing past the end, as the reference
 * implementation demands). Tensor data is then read on demand, in bounded chunks.
 */
public final class SafeTensorsReader implements Closeable {

    /** Largest header accepted (the reference implementation's limit, 100 MB). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    /** Key of the string→string metadata object in the header. */
    public static final String METADATA_KEY = "__metadata__";

    /** Largest Java array we will allocate for one tensor. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private static final int CHUNK_BYTES = 1 << 20;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path file;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafeTensorsReader(Path file, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors,
            Map<String, String> metadata) {
        this.file = file;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Opens {@code file} and validates its header; fails with a {@link SafeTensorsException} naming the fault. */
    public static SafeTensorsReader open(Path file) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            return parse(file, channel);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static SafeTensorsReader parse(Path file, FileChannel channel) throws IOException {
        long size = channel.size();
        if (size < 8) {
            throw new SafeTensorsException(file, "file is " + size + " bytes, too short for a safetensors header "
                    + "(its 8-byte length alone needs 8)");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, channel, lengthBytes, 0);
        long n = lengthBytes.getLong(0);
        // the length is unsigned: a negative long is a length above 2^63
        if (n < 0 || n > size - 8) {
            throw new SafeTensorsException(file, "header length " + Long.toUnsignedString(n) + " exceeds the "
                    + (size - 8) + " bytes that follow it (truncated, or not a safetensors file)");
        }
        if (n > MAX_HEADER_BYTES) {
            throw new SafeTensorsException(file, "header length " + n + " exceeds the limit of " + MAX_HEADER_BYTES);
        }
        if (n < 2) {
            throw new SafeTensorsException(file, "header length " + n + " is too small for a JSON object");
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) n);
        readFully(file, channel, headerBytes, 8);
        if (headerBytes.get(0) != '{') {
            throw new SafeTensorsException(file, "header does not start with '{' (not a safetensors file)");
        }
        String header;
        try {
            header = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(headerBytes.flip()).toString();
        } catch (CharacterCodingException e) {
            throw new SafeTensorsException(file, "header is not valid UTF-8");
        }
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (JsonProcessingException e) {
            throw new SafeTensorsException(file, "header is not well-formed JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new SafeTensorsException(file, "header is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorInfo> infos = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().equals(METADATA_KEY)) {
                readMetadata(file, field.getValue(), metadata);
            } else {
                infos.add(readEntry(file, field.getKey(), field.getValue()));
            }
        }
        checkLayout(file, infos, size - 8 - n);
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        infos.forEach(t -> byName.put(t.name(), t));
        return new SafeTensorsReader(file, channel, 8 + n, Collections.unmodifiableMap(byName),
                Collections.unmodifiableMap(metadata));
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> out) throws SafeTensorsException {
        if (node.isNull()) {
            return; // the reference implementation reads null as "no metadata"
        }
        if (!node.isObject()) {
            throw new SafeTensorsException(file, "'" + METADATA_KEY + "' must be an object of strings, got "
                    + node.getNodeType());
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new SafeTensorsException(file, "metadata '" + e.getKey() + "' must be a string, got "
                        + e.getValue().getNodeType());
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static TensorInfo readEntry(Path file, String name, JsonNode node) throws SafeTensorsException {
        String where = "tensor '" + name + "': ";
        if (!node.isObject()) {
            throw new SafeTensorsException(file, where + "entry must be an object, got " + node.getNodeType());
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!key.equals("dtype") && !key.equals("shape") && !key.equals("data_offsets")) {
                throw new SafeTensorsException(file, where + "unknown field '" + key
                        + "' (expected dtype, shape, data_offsets)");
            }
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new SafeTensorsException(file, where + "'dtype' is missing or not a string");
        }
        DType dtype = DType.parse(dtypeNode.textValue());
        if (dtype == null) {
            throw new SafeTensorsException(file, where + "unknown dtype '" + dtypeNode.textValue() + "'; known: "
                    + Arrays.toString(DType.values()));
        }
        long[] shape = longs(file, where + "'shape'", node.get("shape"), -1);
        long[] offsets = longs(file, where + "'data_offsets'", node.get("data_offsets"), 2);
        long elements = 1;
        try {
            for (long d : shape) {
                elements = Math.multiplyExact(elements, d);
            }
            long bytes = Math.multiplyExact(elements, dtype.bytes());
            if (offsets[1] < offsets[0] || offsets[1] - offsets[0] != bytes) {
                throw new SafeTensorsException(file, where + "shape " + Arrays.toString(shape) + " of " + dtype
                        + " needs " + bytes + " bytes but data_offsets " + Arrays.toString(offsets) + " span "
                        + (offsets[1] - offsets[0]));
            }
        } catch (ArithmeticException e) {
            throw new SafeTensorsException(file, where + "shape " + Arrays.toString(shape) + " is too large");
        }
        return new TensorInfo(name, dtype, shape, offsets[0], offsets[1]);
    }

    /** A JSON array of non-negative whole numbers ({@code length} of them unless −1). */
    private static long[] longs(Path file, String what, JsonNode node, int length) throws SafeTensorsException {
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
            throw new SafeTensorsException(file, what + " must be an array of "
                    + (length >= 0 ? length + " " : "") + "non-negative integers, got " + node);
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new SafeTensorsException(file, what + " must hold non-negative integers, got " + node);
            }
            out[i] = v.longValue();
        }
        return out;
    }

    /** The tensors must tile [0, dataLength) exactly: sorted by offset, each starting where the last ended. */
    private static void checkLayout(Path file, List<TensorInfo> infos, long dataLength) throws SafeTensorsException {
        infos.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long end = 0;
        TensorInfo previous = null;
        for (TensorInfo t : infos) {
            if (t.begin() != end) {
                throw new SafeTensorsException(file, "tensor '" + t.name() + "' starts at byte " + t.begin() + " but "
                        + (previous == null ? "the data starts at 0"
                                : "tensor '" + previous.name() + "' ends at " + end)
                        + (t.begin() < end ? " (overlap)" : " (a hole in the data)"));
            }
            end = t.end();
            previous = t;
        }
        if (end > dataLength) {
            throw new SafeTensorsException(file, "tensor '" + previous.name() + "' ends at byte " + end
                    + " but the data section holds only " + dataLength + " bytes (file truncated?)");
        }
        if (end < dataLength) {
            throw new SafeTensorsException(file, "the data section holds " + dataLength + " bytes but the tensors "
                    + "cover only " + end + " (trailing bytes)");
        }
    }

    // ---- contents -----------------------------------------------------------------------

    public Path file() {
        return file;
    }

    /** The header's {@code __metadata__} (empty if none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Every tensor's entry, in data order. */
    public List<TensorInfo> tensors() {
        return List.copyOf(tensors.values());
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The entry of tensor {@code name}; fails naming the file when there is none. */
    public TensorInfo info(String name) throws SafeTensorsException {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new SafeTensorsException(file, "no tensor '" + name + "'");
        }
        return t;
    }

    /** Tensor {@code name} as floats (F32 exactly; F64, F16, BF16 converted). */
    public float[] readFloats(String name) throws IOException {
        TensorInfo t = floatTensor(name);
        float[] out = new float[(int) arrayLength(t)];
        readFloats(t, (at, chunk, count) -> System.arraycopy(chunk, 0, out, (int) at, count));
        return out;
    }

    /**
     * Reads tensor {@code name} straight into {@code target} (same element count; the caller
     * checks the shape), in chunks, so no full-size host copy is made.
     */
    public void readInto(String name, Tensor target) throws IOException {
        TensorInfo t = floatTensor(name);
        if (t.elementCount() != target.size()) {
            throw new IllegalArgumentException(file + ": tensor '" + name + "' has " + t.elementCount()
                    + " elements, the target " + target.size());
        }
        readFloats(t, (at, chunk, count) -> target.storage().copyFromHost(target.offset() + at, chunk, 0, count));
    }

    /** Tensor {@code name} as longs (I64; I32 and U8 widened). */
    public long[] readLongs(String name) throws IOException {
        TensorInfo t = info(name);
        if (!t.dtype().readableAsLong()) {
            throw new SafeTensorsException(file, "tensor '" + name + "' is " + t.dtype()
                    + ", not an integer type that reads as int64");
        }
        long[] out = new long[(int) arrayLength(t)];
        forEachChunk(t, (at, bytes, count) -> {
            for (int i = 0; i < count; i++) {
                out[(int) at + i] = switch (t.dtype()) {
                    case I64 -> bytes.getLong();
                    case I32 -> bytes.getInt();
                    default -> Byte.toUnsignedLong(bytes.get());
                };
            }
        });
        return out;
    }

    /**
     * Checks the file against the CRC-32C that {@link SafeTensorsWriter#checksum} stored under
     * {@code key} (of the whole file, those digits as {@code 00000000}). A file without that key
     * (written without a checksum, or by another program) passes unchecked: the answer says
     * whether a sum was there to check.
     *
     * @throws SafeTensorsException the bytes differ from those written (the header's included),
     *     or the stored value is not 8 hex digits where the writer puts them
     */
    public boolean verifyChecksum(String key) throws IOException {
        String stored = metadata.get(key);
        if (stored == null) {
            return false;
        }
        ByteBuffer header = ByteBuffer.allocate((int) dataStart);
        readFully(file, channel, header, 0);
        byte[] bytes = header.array();
        int at;
        try {
            at = checksumDigitsAt(Arrays.copyOfRange(bytes, 8, bytes.length), key);
        } catch (IllegalArgumentException e) {
            throw new SafeTensorsException(file, "metadata '" + key + "' is not a CRC-32C as this program writes it "
                    + "(8 hex digits): '" + stored + "'; was the file rewritten by another program?");
        }
        java.util.Arrays.fill(bytes, 8 + at, 8 + at + 8, (byte) '0');
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        ByteBuffer buffer = ByteBuffer.allocate(CHUNK_BYTES);
        long end = channel.size();
        for (long pos = dataStart; pos < end; pos += buffer.limit()) {
            buffer.clear().limit((int) Math.min(CHUNK_BYTES, end - pos));
            readFully(file, channel, buffer, pos);
            crc.update(buffer.flip());
        }
        String read = String.format("%08x", crc.getValue());
        if (!read.equals(stored)) {
            throw new SafeTensorsException(file, "its bytes were changed after it was written (CRC-32C " + read
                    + ", written with " + stored + "): the file is damaged");
        }
        return true;
    }

    /**
     * Where the 8 digits of the checksum under {@code key} begin in {@code header} (the JSON, as
     * the writer makes it: {@code "key":"01234567"}).
     *
     * @throws IllegalArgumentException when they are not there
     */
    static int checksumDigitsAt(byte[] header, String key) {
        byte[] prefix = ("\"" + key + "\":\"").getBytes(StandardCharsets.UTF_8);
        outer:
        for (int i = 0; i + prefix.length + 9 <= header.length; i++) {
            for (int k = 0; k < prefix.length; k++) {
                if (header[i + k] != prefix[k]) {
                    continue outer;
                }
            }
            int at = i + prefix.length;
            for (int k = 0; k < 8; k++) {
                byte b = header[at + k];
                if (!(b >= '0' && b <= '9' || b >= 'a' && b <= 'f')) {
                    throw new IllegalArgumentException("not 8 hex digits");
                }
            }
            if (header[at + 8] != '"') {
                throw new IllegalArgumentException("not 8 hex digits");
            }
            return at;
        }
        throw new IllegalArgumentException("no '" + key + "' of 8 hex digits in the header");
    }

    private TensorInfo floatTensor(String name) throws SafeTensorsException {
        TensorInfo t = info(name);
        if (!t.dtype().readableAsFloat()) {
            throw new SafeTensorsException(file, "tensor '" + name + "' is " + t.dtype()
                    + ", not a floating-point type (F32, F64, F16, BF16)");
        }
        return t;
    }

    private long arrayLength(TensorInfo t) throws SafeTensorsException {
        if (t.elementCount() > MAX_ARRAY) {
            throw new SafeTensorsException(file, "tensor '" + t.name() + "' has " + t.elementCount()
                    + " elements, more than one Java array holds");
        }
        return t.elementCount();
    }

    private interface FloatSink {
        void accept(long elementOffset, float[] chunk, int count);
    }

    private interface ByteSink {
        void accept(long elementOffset, ByteBuffer bytes, int count);
    }

    private void readFloats(TensorInfo t, FloatSink sink) throws IOException {
        float[] chunk = new float[(int) Math.min(t.elementCount(), CHUNK_BYTES / t.dtype().bytes())];
        forEachChunk(t, (at, bytes, count) -> {
            for (int i = 0; i < count; i++) {
                chunk[i] = switch (t.dtype()) {
                    case F32 -> bytes.getFloat();
                    case F64 -> (float) bytes.getDouble();
                    case F16 -> HalfFloats.f16ToFloat(bytes.getShort());
                    default -> HalfFloats.bf16ToFloat(bytes.getShort());
                };
            }
            sink.accept(at, chunk, count);
        });
    }

    /** Hands the tensor's bytes over in whole-element chunks of at most {@link #CHUNK_BYTES}. */
    private void forEachChunk(TensorInfo t, ByteSink sink) throws IOException {
        int elementBytes = t.dtype().bytes();
        int perChunk = CHUNK_BYTES / elementBytes;
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(t.byteSize(), (long) perChunk * elementBytes))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (long done = 0; done < t.elementCount(); ) {
            int count = (int) Math.min(perChunk, t.elementCount() - done);
            buffer.clear().limit(count * elementBytes);
            readFully(file, channel, buffer, dataStart + t.begin() + done * elementBytes);
            buffer.flip();
            sink.accept(done, buffer, count);
            done += count;
        }
    }

    private static void readFully(Path file, FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, at);
            if (n < 0) {
                throw new SafeTensorsException(file, "unexpected end of file at byte " + at
                        + " (was the file truncated while open?)");
            }
            at += n;
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
