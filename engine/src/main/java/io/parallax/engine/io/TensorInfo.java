package io.parallax.engine.io;

import java.util.Arrays;

/**
 * One tensor's entry in a safetensors header: name, element type, shape, and its byte range
 * {@code [begin, end)} relative to the start of the data section (after the header).
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements: the product of the shape (1 for a scalar, shape {@code []}). */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Size of the data in bytes, {@code end − begin}. */
    public long byteSize() {
        return end - begin;
    }

    /** Whether the shape equals {@code other} (an engine tensor's int shape). */
    public boolean hasShape(int[] other) {
        if (other.length != shape.length) {
            return false;
        }
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] != other[i]) {
                return false;
            }
        }
        return true;
    }

    /** E.g. {@code '0.weight' F32 [5, 6] bytes [0, 120)}. */
    @Override
    public String toString() {
        return "'" + name + "' " + dtype + " " + Arrays.toString(shape) + " bytes [" + begin + ", " + end + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return (name.hashCode() * 31 + dtype.hashCode()) * 31 + Arrays.hashCode(shape);
    }
}
