package io.parallax.engine.tensor;

import io.parallax.engine.backend.Backend;
import java.util.Arrays;
import java.util.Objects;

/**
 * A dense float32 tensor: a row-major view ({@code offset}, {@code shape}) into a {@link Storage}.
 *
 * <p>Tensors are cheap views: {@link #view} and {@link #rows(int, int)} share memory with the
 * tensor they come from. Activations are 2-D {@code [batch, features]}; a 1-D tensor of length
 * n behaves as a {@code [1, n]} matrix wherever a matrix is expected.
 */
public final class Tensor {

    private final Storage storage;
    private final long offset;
    private final int[] shape;
    private final long size;

    Tensor(Storage storage, long offset, int[] shape) {
        long n = Shapes.size(shape);
        if (offset < 0 || offset + n > storage.size()) {
            throw new IllegalArgumentException("view [" + offset + ", " + (offset + n)
                    + ") does not fit in a storage of " + storage.size() + " floats");
        }
        this.storage = storage;
        this.offset = offset;
        this.shape = shape.clone();
        this.size = n;
    }

    /** A new zero-filled tensor of the given shape on {@code backend}. */
    public static Tensor zeros(Backend backend, int... shape) {
        long n = Shapes.size(shape);
        return new Tensor(backend.allocate(n), 0, shape);
    }

    /** A new tensor holding a copy of {@code values}, with the given shape. */
    public static Tensor of(Backend backend, float[] values, int... shape) {
        if (Shapes.size(shape) != values.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds "
                    + Shapes.size(shape) + " values, got " + values.length);
        }
        Tensor t = zeros(backend, shape);
        t.copyFrom(values);
        return t;
    }

    /** Wraps a whole storage as a 1-D tensor. */
    public static Tensor wrap(Storage storage) {
        return new Tensor(storage, 0, new int[] {Math.toIntExact(storage.size())});
    }

    public Storage storage() {
        return storage;
    }

    public Backend backend() {
        return storage.backend();
    }

    /** Offset of the first element within {@link #storage()}, in floats. */
    public long offset() {
        return offset;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int axis) {
        return shape[axis];
    }

    /** Number of elements. */
    public long size() {
        return size;
    }

    /** Rows when seen as a matrix: {@code shape[0]} for rank ≥ 2, 1 for a vector. */
    public int rows() {
        return shape.length >= 2 ? shape[0] : 1;
    }

    /** Columns when seen as a matrix: the product of all axes after the first (all of a vector). */
    public int cols() {
        if (shape.length < 2) {
            return shape.length == 0 ? 1 : shape[0];
        }
        // the product of the axes, not size / rows: a batch of zero rows still has its width
        long cols = 1;
        for (int axis = 1; axis < shape.length; axis++) {
            cols *= shape[axis];
        }
        return Math.toIntExact(cols);
    }

    /** A view of {@code shape} starting {@code elementOffset} floats into this tensor. */
    public Tensor view(long elementOffset, int... newShape) {
        long n = Shapes.size(newShape);
        if (elementOffset < 0 || elementOffset + n > size) {
            throw new IllegalArgumentException("view of " + n + " floats at " + elementOffset
                    + " does not fit in a tensor of shape " + Arrays.toString(shape));
        }
        return new Tensor(storage, offset + elementOffset, newShape);
    }

    /** The same elements with another shape of the same size. */
    public Tensor reshape(int... newShape) {
        if (Shapes.size(newShape) != size) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape)
                    + " to " + Arrays.toString(newShape));
        }
        return new Tensor(storage, offset, newShape);
    }

    /** Rows {@code [from, from + count)} of a matrix, as a view. */
    public Tensor rows(int from, int count) {
        int cols = cols();
        if (from < 0 || count < 0 || from + count > rows()) {
            throw new IllegalArgumentException("rows [" + from + ", " + (from + count)
                    + ") out of a tensor with " + rows() + " rows");
        }
        int[] s = shape.clone();
        s[0] = count;
        return new Tensor(storage, offset + (long) from * cols, s);
    }

    public void copyFrom(float[] values) {
        if (values.length != size) {
            throw new IllegalArgumentException("tensor of shape " + Arrays.toString(shape)
                    + " holds " + size + " values, got " + values.length);
        }
        storage.copyFromHost(offset, values, 0, values.length);
    }

    /** A host copy of the elements, row-major. */
    public float[] toArray() {
        float[] out = new float[Math.toIntExact(size)];
        storage.copyToHost(offset, out, 0, out.length);
        return out;
    }

    /** One element by flat row-major index (a host copy: for tests and small reads). */
    public float get(long index) {
        float[] one = new float[1];
        storage.copyToHost(offset + Objects.checkIndex(index, size), one, 0, 1);
        return one[0];
    }

    public void set(long index, float value) {
        storage.copyFromHost(offset + Objects.checkIndex(index, size), new float[] {value}, 0, 1);
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }
}
