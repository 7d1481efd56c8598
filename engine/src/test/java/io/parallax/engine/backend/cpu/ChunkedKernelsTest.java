package io.parallax.engine.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.parallax.engine.backend.ActivationFunction;
import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CPU kernels that work on heap chunks (bias add, column sums, ReLU, the finiteness check)
 * against plain scalar loops, bit for bit, on shapes that straddle the chunk size and on views
 * that start inside their storage.
 */
class ChunkedKernelsTest {

    private final Backend cpu = Backends.cpu();

    /** A [rows, cols] view starting 3 floats into a larger storage, filled with values in [−1, 1). */
    private Tensor randomView(int rows, int cols, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Tensor storage = Tensor.zeros(cpu, rows * cols + 7);
        float[] all = new float[rows * cols + 7];
        for (int i = 0; i < all.length; i++) {
            all[i] = (float) (2 * random.nextDouble() - 1);
        }
        storage.copyFrom(all);
        return storage.view(3, rows, cols);
    }

    @ParameterizedTest
    @CsvSource({"1,1", "7,10", "70,63", "70,64", "130,256", "3,2048", "2,2049", "5,5000", "1000,3"})
    void addRowVectorAddsTheBiasToEveryRow(int rows, int cols) {
        Tensor y = randomView(rows, cols, 1);
        Tensor bias = randomView(1, cols, 2).reshape(cols);
        float[] expected = y.toArray();
        float[] b = bias.toArray();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                expected[r * cols + c] += b[c];
            }
        }
        cpu.addRowVector(y, bias);
        assertArrayEquals(expected, y.toArray());
    }

    @ParameterizedTest
    @CsvSource({"1,1,0", "7,10,1", "70,63,1", "70,64,0.5", "130,256,0", "3,2048,0.5", "2,2049,1", "5,5000,0", "1000,3,0.25"})
    void sumRowsSumsInRowOrder(int rows, int cols, float beta) {
        Tensor x = randomView(rows, cols, 3);
        Tensor out = randomView(1, cols, 4).reshape(cols);
        if (beta == 0f) {
            out.set(0, Float.NaN); // beta = 0 overwrites, NaN included
        }
        float[] xs = x.toArray();
        float[] expected = out.toArray();
        for (int c = 0; c < cols; c++) {
            expected[c] = beta == 0f ? 0f : beta == 1f ? expected[c] : beta * expected[c];
        }
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                expected[c] = expected[c] + xs[r * cols + c];
            }
        }
        cpu.sumRows(x, beta, out);
        assertArrayEquals(expected, out.toArray());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 10, 2047, 2048, 2049, 10_000})
    void reluForwardIsMaxWithZeroAndPropagatesNaN(int n) {
        Tensor x = randomView(1, n, 5);
        x.set(n / 2, Float.NaN);
        x.set(0, -0f);
        float[] xs = x.toArray();
        Tensor y = Tensor.zeros(cpu, 1, n);
        cpu.activation(ActivationFunction.RELU, 0f, x, y);
        float[] expected = new float[n];
        for (int i = 0; i < n; i++) {
            expected[i] = Float.isNaN(xs[i]) ? Float.NaN : xs[i] > 0f ? xs[i] : 0f;
        }
        assertArrayEquals(expected, y.toArray());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 10, 511, 512, 2049, 10_000})
    void reluBackwardPassesTheGradientWhereTheOutputIsPositive(int n) {
        assertReluBackward(n, false, false);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 10, 511, 512, 2049, 10_000})
    void reluBackwardIsExactWithNonFiniteGradientsAndOutputs(int n) {
        assertReluBackward(n, true, false);
    }

    @ParameterizedTest
    @ValueSource(ints = {10, 2049, 10_000})
    void reluBackwardMayWriteOverItsOutputGradient(int n) {
        assertReluBackward(n, true, true);
    }

    private void assertReluBackward(int n, boolean nonFinite, boolean inPlace) {
        Tensor x = randomView(1, n, 6);
        Tensor y = Tensor.zeros(cpu, 1, n);
        if (n > 2) {
            x.set(1, Float.MIN_VALUE); // smallest subnormal: still "y > 0"
        }
        cpu.activation(ActivationFunction.RELU, 0f, x, y);
        Tensor dy = randomView(1, n, 7);
        if (nonFinite) {
            float[] specials = {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
            for (int k = 0; k < 3; k++) {
                dy.set((long) (n - 1) * k / 3, specials[k]);
                dy.set((long) (n - 1) * (k + 1) / 4, specials[k]);
            }
            y.set(n - 1, Float.NaN);
        }
        float[] ys = y.toArray();
        float[] dys = dy.toArray();
        float[] expected = new float[n];
        for (int i = 0; i < n; i++) {
            expected[i] = ys[i] > 0f ? dys[i] : 0f;
        }
        Tensor dx = inPlace ? dy : Tensor.zeros(cpu, 1, n);
        cpu.activationBackward(ActivationFunction.RELU, 0f, x, y, dy, dx);
        assertArrayEquals(expected, dx.toArray());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 100, 511, 512, 513, 100_000})
    void firstNonFiniteFindsTheFirstNaNOrInfinity(int n) {
        Tensor t = randomView(1, n, 8);
        assertEquals(-1, cpu.firstNonFinite(t));
        t.set(n - 1, Float.NEGATIVE_INFINITY);
        assertEquals(n - 1, cpu.firstNonFinite(t));
        t.set(n / 2, Float.NaN);
        assertEquals(n / 2, cpu.firstNonFinite(t));
        t.set(0, Float.POSITIVE_INFINITY);
        assertEquals(0, cpu.firstNonFinite(t));
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 1000})
    void firstNonFiniteAcceptsHugeFiniteValuesWhoseSumOverflows(int n) {
        Tensor t = Tensor.zeros(cpu, n);
        cpu.fill(t, Float.MAX_VALUE);
        assertEquals(-1, cpu.firstNonFinite(t));
    }
}
