package io.parallax.engine.backend.cpu;

/**
 * Per-thread heap chunks for element-wise kernels. On JDK 17 the JIT does not vectorise loops
 * over a direct {@link java.nio.FloatBuffer} (each get/put stays scalar, ~4–12 GB/s), but it does
 * vectorise the same loop over {@code float[]}. So a kernel copies a chunk of its operands in
 * with the buffers' bulk absolute get (a memcpy), runs the loop on the arrays, and copies the
 * result out: about 4–8× faster than the scalar loop, and bit-identical to it whenever the loop
 * body is.
 *
 * <p>Chunks are small enough that the arrays a kernel uses together stay in the L1 cache, and
 * per thread because the data-parallel runtime may run kernels on several threads at once.
 */
final class Scratch {

    /** Floats per chunk: 8 KiB per array, so three arrays fit in a 32 KiB L1 data cache. */
    static final int CHUNK = 2048;

    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    final float[] a = new float[CHUNK];
    final float[] b = new float[CHUNK];
    final float[] c = new float[CHUNK];
    private double[] row = new double[16];

    private Scratch() {}

    static Scratch get() {
        return LOCAL.get();
    }

    /** A double array of at least {@code n} elements, kept for the next call. */
    double[] row(int n) {
        if (row.length < n) {
            row = new double[Math.max(n, 2 * row.length)];
        }
        return row;
    }
}
