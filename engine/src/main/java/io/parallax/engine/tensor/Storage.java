package io.parallax.engine.tensor;

import io.parallax.engine.backend.Backend;

/**
 * A block of float32 memory owned by one {@link Backend}. Tensors are views into a storage
 * (offset + shape), so many tensors, e.g. every parameter of a model, can share one block.
 *
 * <p>Host copies are the only element access a storage promises; a backend reaches its own
 * storage's memory directly (the CPU backend through a direct {@link java.nio.FloatBuffer}).
 */
public interface Storage {

    /** The backend that allocated this storage and alone may compute on it. */
    Backend backend();

    /** Number of float32 elements. */
    long size();

    /** Copies {@code length} floats from {@code src[srcOffset..]} to this storage at {@code offset}. */
    void copyFromHost(long offset, float[] src, int srcOffset, int length);

    /** Copies {@code length} floats from this storage at {@code offset} into {@code dst[dstOffset..]}. */
    void copyToHost(long offset, float[] dst, int dstOffset, int length);
}
