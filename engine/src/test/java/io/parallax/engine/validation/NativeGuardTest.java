package io.parallax.engine.validation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Shapes are checked in Java before native code sees them: a GEMM whose shapes disagree throws
 * an {@link IllegalArgumentException} (a wrong leading dimension or size passed to
 * {@code cblas_sgemm} would read or write outside the buffers and could crash the JVM), and the
 * element-wise kernels refuse tensors of different sizes. The tests reaching their last line
 * shows that the JVM survived and the backend still works.
 */
class NativeGuardTest {

    protected Backend backend() {
        return Backends.cpu();
    }

    @Test
    void gemmWithInconsistentInnerDimensions() {
        Tensor a = Tensor.zeros(backend(), 4, 3);
        Tensor b = Tensor.zeros(backend(), 5, 2);
        Tensor c = Tensor.zeros(backend(), 4, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend().gemm(false, false, 1f, a, b, 0f, c));
        Messages.assertMentions(e, "gemm", "4×3", "5×2");
        assertWorks();
    }

    @Test
    void gemmWithAnOutputOfTheWrongShape() {
        Tensor a = Tensor.zeros(backend(), 4, 3);
        Tensor b = Tensor.zeros(backend(), 3, 2);
        Messages.assertMentions(assertThrows(IllegalArgumentException.class,
                () -> backend().gemm(false, false, 1f, a, b, 0f, Tensor.zeros(backend(), 2, 4))), "C 2×4");
        // a C too small by one row: BLAS would write past its end
        Messages.assertMentions(assertThrows(IllegalArgumentException.class,
                () -> backend().gemm(false, false, 1f, a, b, 0f, Tensor.zeros(backend(), 3, 2))), "C 3×2");
        assertWorks();
    }

    @Test
    void gemmTransposeFlagsAreAccountedForInTheCheck() {
        Tensor a = Tensor.zeros(backend(), 4, 3);
        Tensor b = Tensor.zeros(backend(), 4, 2);
        Tensor c = Tensor.zeros(backend(), 3, 2);
        // Aᵀ·B is 3×2 and fine; A·B is not
        backend().gemm(true, false, 1f, a, b, 0f, c);
        assertThrows(IllegalArgumentException.class, () -> backend().gemm(false, false, 1f, a, b, 0f, c));
        assertThrows(IllegalArgumentException.class, () -> backend().gemm(true, true, 1f, a, b, 0f, c));
        assertWorks();
    }

    @Test
    void elementwiseKernelsRefuseDifferentSizes() {
        Tensor small = Tensor.zeros(backend(), 3);
        Tensor big = Tensor.zeros(backend(), 4);
        Messages.assertMentions(assertThrows(IllegalArgumentException.class,
                () -> backend().axpy(0.1f, big, small)), "size mismatch");
        assertThrows(IllegalArgumentException.class, () -> backend().copy(big, small));
        assertThrows(IllegalArgumentException.class, () -> backend().multiply(big, big, small));
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(backend(), 4).view(2, 3));
        assertWorks();
    }

    /** A correct GEMM right after the failed ones: [[1,2],[3,4]]·[[5],[6]] = [[17],[39]]. */
    private void assertWorks() {
        Tensor a = Tensor.of(backend(), new float[] {1, 2, 3, 4}, 2, 2);
        Tensor b = Tensor.of(backend(), new float[] {5, 6}, 2, 1);
        Tensor c = Tensor.zeros(backend(), 2, 1);
        backend().gemm(false, false, 1f, a, b, 0f, c);
        assertArrayEquals(new float[] {17, 39}, c.toArray());
    }
}
