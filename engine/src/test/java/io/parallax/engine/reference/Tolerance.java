package io.parallax.engine.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The comparison every PyTorch reference test uses: |actual − expected| ≤ RTOL·|expected| + ATOL.
 *
 * <p>RTOL = 1e-5 is the project's tolerance for reference values. ATOL covers results that are
 * small only because larger terms cancel (a Linear output near 0, a batch-norm input gradient,
 * dy − ⟨dy, y⟩ in softmax): the engine computes in float32, whose unit roundoff is
 * 2⁻²⁴ ≈ 6·10⁻⁸, while the reference is float64 on the same float32-exact inputs. The terms in
 * these cases are at most a few units in magnitude and a result combines about ten of them, so
 * the float32 error of such a result is a few 10⁻⁷ in absolute terms however small the result
 * is; 1e-6 bounds that, and stays far below any formula error (those are ≥ 1e-3 here).
 * Measured with ATOL = 0: 13 of the 97 cases fail on the relative bound alone, all by at most
 * 1.1e-7 absolute (cancellation in Linear/BatchNorm/softmax input gradients; derivatives of
 * saturated sigmoid/tanh/ELU taken from the float32 output; float32 underflow of e^−100).
 */
final class Tolerance {

    static final double RTOL = 1e-5;
    static final double ATOL = 1e-6;

    private Tolerance() {}

    static boolean close(double expected, double actual) {
        if (Double.isNaN(expected) || Double.isNaN(actual)) {
            return false;
        }
        if (expected == actual) {
            return true;
        }
        return Math.abs(actual - expected) <= RTOL * Math.abs(expected) + ATOL;
    }

    static void assertClose(String what, double expected, double actual) {
        if (!close(expected, actual)) {
            fail(String.format("%s: expected %.9g, got %.9g (|diff| %.3g > %.3g)", what, expected, actual,
                    Math.abs(actual - expected), RTOL * Math.abs(expected) + ATOL));
        }
    }

    /** Element-wise; the message names the first bad element by its row-major index. */
    static void assertClose(String what, double[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": number of elements");
        for (int i = 0; i < expected.length; i++) {
            if (!close(expected[i], actual[i])) {
                fail(String.format("%s: element %d: expected %.9g, got %.9g (|diff| %.3g > %.3g)", what, i,
                        expected[i], (double) actual[i], Math.abs(actual[i] - expected[i]),
                        RTOL * Math.abs(expected[i]) + ATOL));
            }
        }
    }
}
