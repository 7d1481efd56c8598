package io.parallax.coordinator.metrics;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * Encodes the two kinds of TensorBoard {@code Event} this project writes, by hand with
 * {@link CodedOutputStream}, so that no copy of TensorFlow's {@code .proto} files is needed.
 *
 * <p>The field numbers are TensorBoard's (tensorboard/compat/proto/event.proto, summary.proto):
 *
 * <pre>
 * message Event   { double wall_time = 1; int64 step = 2;
 *                   oneof what { string file_version = 3; Summary summary = 5; ... } }
 * message Summary { repeated Value value = 1;
 *                   message Value { string tag = 1; oneof value { float simple_value = 2; ... } } }
 * </pre>
 *
 * TensorBoard's scalar dashboard reads {@code simple_value} directly (it converts such values to
 * its newer tensor form on load).
 */
final class TensorBoardEvents {

    /** The version string of the first record of every event file. */
    static final String FILE_VERSION = "brain.Event:2";

    private TensorBoardEvents() {}

    /** The first event of a file: its wall time (seconds since the epoch) and the file version. */
    static byte[] fileVersion(double wallTime) {
        int size = CodedOutputStream.computeDoubleSize(1, wallTime)
                + CodedOutputStream.computeStringSize(3, FILE_VERSION);
        byte[] bytes = new byte[size];
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        try {
            out.writeDouble(1, wallTime);
            out.writeString(3, FILE_VERSION);
            out.checkNoSpaceLeft();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot happen: the buffer was sized for the message", e);
        }
        return bytes;
    }

    /**
     * An event holding one summary with a scalar per entry of {@code scalars} (tag to value, in
     * the map's order), all at the same {@code step}.
     */
    static byte[] scalars(double wallTime, long step, Map<String, Float> scalars) {
        int summarySize = 0;
        for (Map.Entry<String, Float> e : scalars.entrySet()) {
            summarySize += CodedOutputStream.computeTagSize(1) + lengthDelimited(valueSize(e.getKey(), e.getValue()));
        }
        int size = CodedOutputStream.computeDoubleSize(1, wallTime) + CodedOutputStream.computeInt64Size(2, step)
                + CodedOutputStream.computeTagSize(5) + lengthDelimited(summarySize);
        byte[] bytes = new byte[size];
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        try {
            out.writeDouble(1, wallTime);
            out.writeInt64(2, step);
            out.writeTag(5, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            out.writeUInt32NoTag(summarySize);
            for (Map.Entry<String, Float> e : scalars.entrySet()) {
                out.writeTag(1, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                out.writeUInt32NoTag(valueSize(e.getKey(), e.getValue()));
                out.writeString(1, e.getKey());
                out.writeFloat(2, e.getValue());
            }
            out.checkNoSpaceLeft();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot happen: the buffer was sized for the message", e);
        }
        return bytes;
    }

    private static int valueSize(String tag, float value) {
        return CodedOutputStream.computeStringSize(1, tag) + CodedOutputStream.computeFloatSize(2, value);
    }

    /** The size of a length-delimited payload of {@code size} bytes, its length prefix included. */
    private static int lengthDelimited(int size) {
        return CodedOutputStream.computeUInt32SizeNoTag(size) + size;
    }
}
