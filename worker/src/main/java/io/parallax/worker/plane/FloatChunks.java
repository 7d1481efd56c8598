package io.parallax.worker.plane;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The tensor plane's chunk payload: a run of floats as little-endian float32 bytes, and back.
 * Shared by the gRPC client (worker) and the gRPC service (coordinator) so both ends agree on
 * the byte order and the chunk limit.
 */
public final class FloatChunks {

    /** Most payload one chunk may carry, in bytes: 1 MiB, a quarter of gRPC's 4 MiB message limit. */
    public static final int MAX_CHUNK_BYTES = 1 << 20;

    /** Most floats one chunk may carry (262,144). */
    public static final int MAX_CHUNK_FLOATS = MAX_CHUNK_BYTES / Float.BYTES;

    /**
     * The payload both sides send per chunk unless configured: 256 KiB. Over loopback between
     * two warmed-up JVMs (bench/README.md, "Tensor plane over gRPC") a 0.94 MB vector moved
     * 8–25% faster in 256 KiB chunks than in one 1 MiB chunk in each of three pairs of runs
     * (the receiver decodes a chunk while the next arrives), and a 40 MB one as fast; each
     * chunk's byte array also stays below G1's humongous-object size.
     */
    public static final int DEFAULT_CHUNK_BYTES = 256 << 10;

    /** Floats in a chunk of {@link #DEFAULT_CHUNK_BYTES} (65,536). */
    public static final int DEFAULT_CHUNK_FLOATS = DEFAULT_CHUNK_BYTES / Float.BYTES;

    private FloatChunks() {}

    /**
     * {@code count} floats of {@code src} from {@code offset}, as little-endian bytes.
     *
     * <p>The bytes live in a fresh heap buffer that protobuf wraps without copying
     * ({@code unsafeWrap}): over a heap buffer the wire serializer copies straight from the
     * array, while over a direct buffer protobuf 4.x copies once more. The buffer is never
     * reused because the in-process transport hands the message itself to the receiver.
     */
    public static ByteString encode(float[] src, int offset, int count) {
        ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(count, Float.BYTES)).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(src, offset, count);
        return UnsafeByteOperations.unsafeWrap(bytes);
    }

    /**
     * Copies the floats of {@code data} into {@code dst} from {@code offset}; returns how many.
     * The caller has checked that {@code data.size()} is a multiple of 4 and that they fit.
     */
    public static int decode(ByteString data, float[] dst, int offset) {
        int count = data.size() / Float.BYTES;
        data.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(dst, offset, count);
        return count;
    }

    /**
     * Checks a chunk size in bytes chosen by a user: a whole number of floats, 4 B to 1 MiB.
     *
     * @return the size in floats
     */
    public static int floatsPerChunk(int chunkBytes) {
        if (chunkBytes < Float.BYTES || chunkBytes > MAX_CHUNK_BYTES || chunkBytes % Float.BYTES != 0) {
            throw new IllegalArgumentException("chunk size must be a multiple of 4 bytes between 4 B and "
                    + MAX_CHUNK_BYTES + " B (1 MiB), got " + chunkBytes);
        }
        return chunkBytes / Float.BYTES;
    }
}
