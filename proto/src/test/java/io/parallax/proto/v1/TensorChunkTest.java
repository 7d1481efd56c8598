package io.parallax.proto.v1;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The generated contract builds and a chunk of little-endian float32 survives the wire. */
class TensorChunkTest {

    @Test
    void chunkRoundTripsLittleEndianFloats() throws InvalidProtocolBufferException {
        float[] values = {1.5f, -2.25f, Float.MIN_VALUE, 3.4e38f};
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        TensorChunk chunk = TensorChunk.newBuilder().setVersion(7).setOffset(4).setTotalLength(8)
                .setData(ByteString.copyFrom(bytes.array())).build();

        TensorChunk parsed = TensorChunk.parseFrom(chunk.toByteArray());

        assertEquals(7, parsed.getVersion());
        assertEquals(4, parsed.getOffset());
        assertEquals(8, parsed.getTotalLength());
        float[] back = new float[values.length];
        parsed.getData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(back);
        assertArrayEquals(values, back);
    }
}
