package io.parallax.engine.backend.cpu;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.tensor.Storage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * Off-heap float32 memory: a direct, native-order {@link FloatBuffer} (freed by the GC with its
 * owner) and a JavaCPP pointer to the same bytes, so BLAS reads it without a copy.
 */
final class CpuStorage implements Storage {

    private final CpuBackend backend;
    private final FloatBuffer buffer;
    private final FloatPointer base;

    CpuStorage(CpuBackend backend, long floats) {
        if (floats < 0 || floats > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cannot allocate " + floats + " floats on the CPU backend "
                    + "(0 to " + Integer.MAX_VALUE + " per storage)");
        }
        this.backend = backend;
        this.buffer = ByteBuffer.allocateDirect(Math.toIntExact(floats * Float.BYTES))
                .order(ByteOrder.nativeOrder()).asFloatBuffer();
        this.base = new FloatPointer(buffer);
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public long size() {
        return buffer.capacity();
    }

    /** The whole storage; use absolute get/put only (the buffer is shared by all views). */
    FloatBuffer buffer() {
        return buffer;
    }

    /** A fresh pointer at {@code offset} floats (a new object per call, so threads never share position). */
    FloatPointer pointer(long offset) {
        return new FloatPointer(base).position(offset);
    }

    @Override
    public void copyFromHost(long offset, float[] src, int srcOffset, int length) {
        buffer.put(Math.toIntExact(offset), src, srcOffset, length);
    }

    @Override
    public void copyToHost(long offset, float[] dst, int dstOffset, int length) {
        buffer.get(Math.toIntExact(offset), dst, dstOffset, length);
    }
}
