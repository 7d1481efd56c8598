package io.parallax.engine.tensor;

import java.util.Arrays;

/** Shape arithmetic and the checks every entry point makes before native code sees a shape. */
public final class Shapes {

    private Shapes() {}

    /** Number of elements of {@code shape}; rejects negative axes and overflow past 2^31 - 1. */
    public static long size(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative size " + d + " in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has " + n
                    + " elements; at most " + Integer.MAX_VALUE + " are supported per tensor");
        }
        return n;
    }

    /** Fails unless {@code t} is a matrix of {@code rows × cols}. */
    public static void requireMatrix(String what, Tensor t, int rows, int cols) {
        if (t.rows() != rows || t.cols() != cols) {
            throw new IllegalArgumentException(what + ": expected shape [" + rows + ", " + cols
                    + "], got " + Arrays.toString(t.shape()));
        }
    }

    /** Fails unless {@code a} and {@code b} have the same number of elements. */
    public static void requireSameSize(String what, Tensor a, Tensor b) {
        if (a.size() != b.size()) {
            throw new IllegalArgumentException(what + ": size mismatch " + Arrays.toString(a.shape())
                    + " vs " + Arrays.toString(b.shape()));
        }
    }
}
