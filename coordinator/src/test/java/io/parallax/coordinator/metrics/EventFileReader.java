package io.parallax.coordinator.metrics;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A reader of TensorBoard event files written for the tests, independent of the writer: its own
 * bitwise CRC32C (not {@link java.util.zip.CRC32C}), its own mask, and a decoder that walks the
 * Event / Summary / Summary.Value wire format field by field with {@link CodedInputStream},
 * rejecting anything it does not expect.
 */
final class EventFileReader {

    /** One decoded Event: {@code fileVersion} is null for summaries, {@code scalars} empty for the header. */
    record Event(double wallTime, long step, String fileVersion, Map<String, Float> scalars) {}

    private EventFileReader() {}

    /** Every record of {@code file}, both CRCs checked; throws {@link IOException} on any damage. */
    static List<Event> read(Path file) throws IOException {
        ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        List<Event> events = new ArrayList<>();
        while (in.hasRemaining()) {
            if (in.remaining() < 12) {
                throw new IOException("truncated record header at byte " + in.position());
            }
            byte[] lengthBytes = new byte[8];
            in.get(lengthBytes);
            int lengthCrc = in.getInt();
            if (lengthCrc != masked(crc32c(lengthBytes))) {
                throw new IOException("length CRC mismatch at record " + events.size());
            }
            long length = ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (length < 0 || length > in.remaining() - 4) {
                throw new IOException("record " + events.size() + " claims " + length + " bytes");
            }
            byte[] data = new byte[(int) length];
            in.get(data);
            if (in.getInt() != masked(crc32c(data))) {
                throw new IOException("data CRC mismatch at record " + events.size());
            }
            events.add(decodeEvent(data));
        }
        return events;
    }

    /** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bit by bit. */
    static int crc32c(byte[] data) {
        int crc = 0xFFFFFFFF;
        for (byte b : data) {
            crc ^= b & 0xFF;
            for (int k = 0; k < 8; k++) {
                crc = (crc & 1) != 0 ? (crc >>> 1) ^ 0x82F63B78 : crc >>> 1;
            }
        }
        return ~crc;
    }

    /** TensorFlow's masking, in long arithmetic then truncated, to differ in form from the writer's. */
    static int masked(int crc) {
        long c = crc & 0xFFFFFFFFL;
        long rotated = ((c >>> 15) | (c << 17)) & 0xFFFFFFFFL;
        return (int) ((rotated + 0xa282ead8L) & 0xFFFFFFFFL);
    }

    private static Event decodeEvent(byte[] data) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(data);
        double wallTime = Double.NaN;
        long step = 0;
        String fileVersion = null;
        Map<String, Float> scalars = new LinkedHashMap<>();
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (tag) {
                case (1 << 3) | WireFormat.WIRETYPE_FIXED64 -> wallTime = in.readDouble();
                case (2 << 3) | WireFormat.WIRETYPE_VARINT -> step = in.readInt64();
                case (3 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> fileVersion = in.readString();
                case (5 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
                    int limit = in.pushLimit(in.readRawVarint32());
                    decodeSummary(in, scalars);
                    in.popLimit(limit);
                }
                default -> throw new IOException("unexpected Event field tag " + tag);
            }
        }
        return new Event(wallTime, step, fileVersion, scalars);
    }

    private static void decodeSummary(CodedInputStream in, Map<String, Float> scalars) throws IOException {
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            if (tag != ((1 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
                throw new IOException("unexpected Summary field tag " + tag);
            }
            int limit = in.pushLimit(in.readRawVarint32());
            String name = null;
            Float value = null;
            for (int t = in.readTag(); t != 0; t = in.readTag()) {
                switch (t) {
                    case (1 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> name = in.readString();
                    case (2 << 3) | WireFormat.WIRETYPE_FIXED32 -> value = in.readFloat();
                    default -> throw new IOException("unexpected Summary.Value field tag " + t);
                }
            }
            in.popLimit(limit);
            if (name == null || value == null) {
                throw new IOException("Summary.Value without tag or simple_value");
            }
            if (scalars.put(name, value) != null) {
                throw new IOException("tag " + name + " twice in one summary");
            }
        }
    }
}
