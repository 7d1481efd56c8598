package io.parallax.engine.backend.cpu;

import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * Fast detection of NaN and ±Inf in a block of floats.
 *
 * <p>Java cannot vectorise a reduction on JDK 17, so a scan costs ~0.5 ns per element. OpenBLAS's
 * {@code sasum} (Σ|xᵢ|) reads the block with vector instructions instead: if any element is NaN
 * the sum is NaN, and if any is ±Inf the sum is Inf or NaN, so a finite sum proves every element
 * finite. The converse does not hold (finite values whose magnitudes sum past Float.MAX_VALUE),
 * so a non-finite sum only means "maybe": callers then look element by element.
 */
final class NonFinite {

    /** Below this many elements a Java loop beats the native call's fixed cost. */
    private static final int NATIVE_FROM = 512;

    private NonFinite() {}

    /**
     * False when all {@code n} elements from {@code offset} are certainly finite; true when some
     * may not be (the caller must then check each element).
     */
    static boolean maybeIn(FloatBuffer b, int offset, int n) {
        if (n < NATIVE_FROM) {
            for (int i = 0; i < n; i++) {
                if (!Float.isFinite(b.get(offset + i))) {
                    return true;
                }
            }
            return false;
        }
        FloatPointer p = new FloatPointer(b).position(offset);
        return !Float.isFinite(openblas_nolapack.cblas_sasum(n, p, 1));
    }

    /** Index (from {@code offset}) of the first non-finite element, or −1. */
    static int first(FloatBuffer b, int offset, int n) {
        if (!maybeIn(b, offset, n)) {
            return -1;
        }
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(b.get(offset + i))) {
                return i;
            }
        }
        return -1;
    }
}
