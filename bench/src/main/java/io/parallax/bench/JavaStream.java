package io.parallax.bench;

/**
 * The four STREAM kernels (McCalpin) as plain Java loops over {@code float[]}, the yardstick for
 * the optimizer benchmark: what one thread of this JVM moves between memory and the core when
 * the arrays are far larger than the last-level cache. Bytes are counted as STREAM counts them,
 * the array elements each kernel reads and writes once (no write-allocate traffic):
 *
 * <pre>
 *   copy   c[i] = a[i]               8 B per element
 *   scale  b[i] = s·c[i]             8 B
 *   add    c[i] = a[i] + b[i]       12 B
 *   triad  a[i] = b[i] + s·c[i]     12 B
 * </pre>
 *
 * A kernel whose destination is not also read (all four) makes the cache fetch the destination
 * line before overwriting it, a stream STREAM does not count; an optimizer step updates its
 * arrays in place and pays no such hidden cost, so copy and scale understate what the memory
 * can do for it most, add and triad least. {@link #inPlace()} is the in-place kind of loop an
 * optimizer runs ({@code a[i] += s·b[i]}, 12 B per element counted, all of it real traffic),
 * printed for comparison but not part of the STREAM yardstick.
 */
final class JavaStream {

    /** One kernel, its name and the bytes STREAM counts per element. */
    record Kernel(String name, int bytesPerElement, Runnable run) {}

    private final float[] a;
    private final float[] b;
    private final float[] c;
    private final float s = 3f;

    /** Three arrays of {@code n} floats, initialised as STREAM does (1, 2, 0). */
    JavaStream(int n) {
        a = new float[n];
        b = new float[n];
        c = new float[n];
        java.util.Arrays.fill(a, 1f);
        java.util.Arrays.fill(b, 2f);
    }

    int length() {
        return a.length;
    }

    Kernel[] kernels() {
        return new Kernel[] {
            new Kernel("copy", 8, () -> copy(a, c)),
            new Kernel("scale", 8, () -> scale(c, b, s)),
            new Kernel("add", 12, () -> add(a, b, c)),
            new Kernel("triad", 12, () -> triad(b, c, a, s)),
        };
    }

    /** The in-place update {@code c[i] = c[i] + s·b[i]} (12 B per element). */
    Kernel inPlace() {
        return new Kernel("in-place c += s·b (not STREAM)", 12, () -> axpy(b, c, s));
    }

    // each kernel is its own static method with one loop, so C2 compiles and vectorises it alone

    private static void copy(float[] a, float[] c) {
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i];
        }
    }

    private static void scale(float[] c, float[] b, float s) {
        for (int i = 0; i < c.length; i++) {
            b[i] = s * c[i];
        }
    }

    private static void add(float[] a, float[] b, float[] c) {
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i] + b[i];
        }
    }

    private static void axpy(float[] b, float[] c, float s) {
        for (int i = 0; i < c.length; i++) {
            c[i] = c[i] + s * b[i];
        }
    }

    private static void triad(float[] b, float[] c, float[] a, float s) {
        for (int i = 0; i < a.length; i++) {
            a[i] = b[i] + s * c[i];
        }
    }
}
