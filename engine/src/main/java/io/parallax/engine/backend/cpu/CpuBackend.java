package io.parallax.engine.backend.cpu;

import io.parallax.engine.backend.ActivationFunction;
import io.parallax.engine.backend.Backend;
import io.parallax.engine.random.CounterRng;
import io.parallax.engine.tensor.Storage;
import io.parallax.engine.tensor.Tensor;
import java.nio.FloatBuffer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * The CPU backend: GEMM through OpenBLAS's {@code cblas_sgemm} on off-heap memory (transposes by
 * flag, no copies), everything else as Java loops, most of them over heap chunks of the direct
 * buffers so the JIT vectorises them (see {@link Scratch}).
 *
 * <p>Threads: OpenBLAS's pool is process-wide. It is set once, explicitly, from the system
 * property {@code parallax.blas.threads} or the environment variable
 * {@code PARALLAX_BLAS_THREADS}, and defaults to 1, because the data-parallel runtime runs one
 * worker per core and several multi-threaded GEMMs at once would oversubscribe the cores.
 * {@link #setThreads(int)} changes it for the whole process.
 */
public final class CpuBackend implements Backend {

    /** System property naming the OpenBLAS thread count. */
    public static final String THREADS_PROPERTY = "parallax.blas.threads";

    private volatile int threads;

    CpuBackend() {
        String configured = System.getProperty(THREADS_PROPERTY, System.getenv("PARALLAX_BLAS_THREADS"));
        int n = 1;
        if (configured != null && !configured.isBlank()) {
            try {
                n = Integer.parseInt(configured.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(THREADS_PROPERTY + " must be a whole number ≥ 1, got '"
                        + configured + "'", e);
            }
        }
        setThreads(n);
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Storage allocate(long floats) {
        return new CpuStorage(this, floats);
    }

    @Override
    public int threads() {
        return threads;
    }

    @Override
    public synchronized void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("BLAS threads must be ≥ 1, got " + n);
        }
        openblas_nolapack.blas_set_num_threads(n);
        threads = n;
    }

    private static CpuStorage storage(Tensor t) {
        if (!(t.storage() instanceof CpuStorage s)) {
            throw new IllegalArgumentException(t + " lives on backend '" + t.backend().name()
                    + "', not on the CPU backend");
        }
        return s;
    }

    private static FloatBuffer buf(Tensor t) {
        return storage(t).buffer();
    }

    private static int off(Tensor t) {
        return (int) t.offset();
    }

    private static int n(Tensor t) {
        return (int) t.size();
    }

    // ---- BLAS ---------------------------------------------------------------------------

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        int m = transA ? a.cols() : a.rows();
        int k = transA ? a.rows() : a.cols();
        int kb = transB ? b.cols() : b.rows();
        int n = transB ? b.rows() : b.cols();
        if (k != kb || c.rows() != m || c.cols() != n) {
            throw new IllegalArgumentException("gemm shapes do not agree: op(A) " + m + "×" + k
                    + ", op(B) " + kb + "×" + n + ", C " + c.rows() + "×" + c.cols());
        }
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            scale(c, beta);
            return;
        }
        openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor,
                transA ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                transB ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                m, n, k, alpha,
                storage(a).pointer(a.offset()), a.cols(),
                storage(b).pointer(b.offset()), b.cols(),
                beta, storage(c).pointer(c.offset()), c.cols());
    }

    // ---- element-wise -------------------------------------------------------------------

    @Override
    public void fill(Tensor t, float value) {
        VectorKernels.fill(buf(t), off(t), n(t), value);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        requireSameSize(src, dst);
        FloatBuffer s = buf(src);
        FloatBuffer d = buf(dst);
        int so = off(src);
        int dO = off(dst);
        d.put(dO, s, so, n(src));
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        requireSameSize(x, y);
        VectorKernels.axpy(alpha, buf(x), off(x), buf(y), off(y), n(x));
    }

    @Override
    public void scale(Tensor t, float alpha) {
        if (alpha == 0f) {
            fill(t, 0f); // beta = 0 means "overwrite", even where t holds NaN
            return;
        }
        VectorKernels.scale(buf(t), off(t), n(t), alpha);
    }

    @Override
    public void multiply(Tensor a, Tensor b, Tensor out) {
        requireSameSize(a, b);
        requireSameSize(a, out);
        VectorKernels.multiply(buf(a), off(a), buf(b), off(b), buf(out), off(out), n(a));
    }

    @Override
    public void activation(ActivationFunction f, float param, Tensor x, Tensor y) {
        requireSameSize(x, y);
        ElementwiseKernels.forward(f, param, buf(x), off(x), buf(y), off(y), n(x));
    }

    @Override
    public void activationBackward(ActivationFunction f, float param, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        requireSameSize(x, dy);
        requireSameSize(x, dx);
        requireSameSize(x, y);
        ElementwiseKernels.backward(f, param, buf(x), off(x), buf(y), off(y), buf(dy), off(dy),
                buf(dx), off(dx), n(x));
    }

    @Override
    public long firstNonFinite(Tensor t) {
        return NonFinite.first(buf(t), off(t), n(t));
    }

    @Override
    public double sumOfSquares(Tensor t) {
        FloatBuffer b = buf(t);
        int o = off(t);
        int n = n(t);
        // four partial sums: breaks the add dependency chain, so the loop runs at load speed
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            float a = b.get(o + i);
            float c = b.get(o + i + 1);
            float d = b.get(o + i + 2);
            float e = b.get(o + i + 3);
            s0 += (double) a * a;
            s1 += (double) c * c;
            s2 += (double) d * d;
            s3 += (double) e * e;
        }
        for (; i < n; i++) {
            float a = b.get(o + i);
            s0 += (double) a * a;
        }
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    public void clamp(Tensor t, float low, float high) {
        VectorKernels.clamp(buf(t), off(t), n(t), low, high);
    }

    // ---- row-wise / column-wise -----------------------------------------------------------

    @Override
    public void addRowVector(Tensor y, Tensor bias) {
        requireLength(bias, y.cols());
        RowKernels.addRowVector(buf(y), off(y), y.rows(), y.cols(), buf(bias), off(bias));
    }

    @Override
    public void sumRows(Tensor x, float beta, Tensor out) {
        requireLength(out, x.cols());
        RowKernels.sumRows(buf(x), off(x), x.rows(), x.cols(), beta, buf(out), off(out));
    }

    @Override
    public void softmaxRows(Tensor x, Tensor y) {
        requireSameSize(x, y);
        RowKernels.softmax(buf(x), off(x), buf(y), off(y), x.rows(), x.cols());
    }

    @Override
    public void softmaxRowsBackward(Tensor y, Tensor dy, Tensor dx) {
        requireSameSize(y, dy);
        requireSameSize(y, dx);
        RowKernels.softmaxBackward(buf(y), off(y), buf(dy), off(dy), buf(dx), off(dx), y.rows(), y.cols());
    }

    @Override
    public void argmaxRows(Tensor x, int[] out) {
        if (out.length < x.rows()) {
            throw new IllegalArgumentException("argmax output holds " + out.length + " rows, need " + x.rows());
        }
        RowKernels.argmax(buf(x), off(x), x.rows(), x.cols(), out);
    }

    // ---- dropout ------------------------------------------------------------------------

    @Override
    public void dropoutMask(Tensor mask, float p, long key, long[] rowIds) {
        int rows = mask.rows();
        int cols = mask.cols();
        if (rowIds.length < rows) {
            throw new IllegalArgumentException("dropout needs " + rows + " row ids, got " + rowIds.length);
        }
        FloatBuffer b = buf(mask);
        float keep = 1f / (1f - p);
        for (int r = 0; r < rows; r++) {
            int o = off(mask) + r * cols;
            long id = rowIds[r];
            for (int c = 0; c < cols; c++) {
                b.put(o + c, CounterRng.uniform(key, id, c) < p ? 0f : keep);
            }
        }
    }

    // ---- batch normalisation --------------------------------------------------------------

    @Override
    public void columnMeanVariance(Tensor x, Tensor mean, Tensor var) {
        NormKernels.columnMeanVariance(buf(x), off(x), x.rows(), x.cols(), buf(mean), off(mean), buf(var), off(var));
    }

    @Override
    public void batchNormApply(Tensor x, Tensor mean, Tensor var, float eps, Tensor gamma, Tensor beta,
                               Tensor invStd, Tensor y) {
        requireSameSize(x, y);
        NormKernels.apply(buf(x), off(x), x.rows(), x.cols(), buf(mean), off(mean), buf(var), off(var), eps,
                gamma == null ? null : buf(gamma), gamma == null ? 0 : off(gamma),
                beta == null ? null : buf(beta), beta == null ? 0 : off(beta),
                buf(invStd), off(invStd), buf(y), off(y));
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor mean, Tensor invStd, Tensor gamma, Tensor dy,
                                  Tensor dGamma, Tensor dBeta, Tensor dx, boolean batchStatistics) {
        NormKernels.backward(buf(x), off(x), x.rows(), x.cols(), buf(mean), off(mean), buf(invStd), off(invStd),
                gamma == null ? null : buf(gamma), gamma == null ? 0 : off(gamma), buf(dy), off(dy),
                dGamma == null ? null : buf(dGamma), dGamma == null ? 0 : off(dGamma),
                dBeta == null ? null : buf(dBeta), dBeta == null ? 0 : off(dBeta),
                dx == null ? null : buf(dx), dx == null ? 0 : off(dx), batchStatistics);
    }

    // ---- losses -------------------------------------------------------------------------

    @Override
    public double crossEntropyWithLogits(Tensor logits, int[] labels, float gradScale, Tensor grad) {
        if (grad != null) {
            requireSameSize(logits, grad);
        }
        return LossKernels.crossEntropy(buf(logits), off(logits), logits.rows(), logits.cols(), labels,
                gradScale, grad == null ? null : buf(grad), grad == null ? 0 : off(grad));
    }

    @Override
    public double binaryCrossEntropyWithLogits(Tensor logits, Tensor targets, float gradScale, Tensor grad) {
        requireSameSize(logits, targets);
        return LossKernels.bceWithLogits(buf(logits), off(logits), buf(targets), off(targets), n(logits),
                gradScale, grad == null ? null : buf(grad), grad == null ? 0 : off(grad));
    }

    @Override
    public double binaryCrossEntropy(Tensor probabilities, Tensor targets, float gradScale, Tensor grad) {
        requireSameSize(probabilities, targets);
        return LossKernels.bce(buf(probabilities), off(probabilities), buf(targets), off(targets),
                n(probabilities), gradScale, grad == null ? null : buf(grad), grad == null ? 0 : off(grad));
    }

    @Override
    public double squaredError(Tensor output, Tensor targets, float gradScale, Tensor grad) {
        requireSameSize(output, targets);
        return LossKernels.squaredError(buf(output), off(output), buf(targets), off(targets), n(output),
                gradScale, grad == null ? null : buf(grad), grad == null ? 0 : off(grad));
    }

    // ---- checks -------------------------------------------------------------------------

    private static void requireSameSize(Tensor a, Tensor b) {
        if (a.size() != b.size()) {
            throw new IllegalArgumentException("size mismatch: " + a + " vs " + b);
        }
    }

    private static void requireLength(Tensor v, int length) {
        if (v.size() != length) {
            throw new IllegalArgumentException("expected a vector of " + length + " elements, got " + v);
        }
    }
}
