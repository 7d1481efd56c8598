package io.parallax.engine.backend;

import io.parallax.engine.tensor.Storage;
import io.parallax.engine.tensor.Tensor;

/**
 * The compute primitives the engine needs from a device. Every layer, loss and metric is
 * written against this interface only, so a backend is: memory, one GEMM, and a short list of
 * fused element-wise and row-wise kernels. Implementations are discovered with
 * {@link java.util.ServiceLoader} through {@link BackendProvider}; see {@link Backends}.
 *
 * <p>Tensors are treated as row-major matrices ({@link Tensor#rows()} × {@link Tensor#cols()}).
 * Callers (layers) check shapes; backends may assume them valid but must never read or write
 * outside a tensor. All tensors passed to a backend live in storage it allocated.
 */
public interface Backend {

    /** Short name, e.g. {@code "cpu"}. */
    String name();

    /** A zero-filled block of {@code floats} float32 elements. */
    Storage allocate(long floats);

    /** Number of threads the backend's math library may use. */
    int threads();

    /** Sets the math library's thread count explicitly (never left to the library's default). */
    void setThreads(int threads);

    // ---- BLAS ---------------------------------------------------------------------------

    /**
     * C = alpha · op(A) · op(B) + beta · C, where op(X) is X or Xᵀ. Transposes are done by the
     * BLAS flags, never by copying. Shapes: op(A) is m×k, op(B) is k×n, C is m×n.
     */
    void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c);

    // ---- element-wise -------------------------------------------------------------------

    void fill(Tensor t, float value);

    /** dst = src (same size). */
    void copy(Tensor src, Tensor dst);

    /** y += alpha · x (same size). */
    void axpy(float alpha, Tensor x, Tensor y);

    /** t *= alpha. */
    void scale(Tensor t, float alpha);

    /** out = a ⊙ b (same size; out may alias a or b). */
    void multiply(Tensor a, Tensor b, Tensor out);

    /** y = f(x) with the function's parameter (slope for LeakyReLU, α for ELU; ignored otherwise). */
    void activation(ActivationFunction f, float param, Tensor x, Tensor y);

    /** dx = f'(x) ⊙ dy, given x, y = f(x) and dy (dx may alias dy). */
    void activationBackward(ActivationFunction f, float param, Tensor x, Tensor y, Tensor dy, Tensor dx);

    /** Index of the first non-finite element (NaN or ±Inf), or -1 when all are finite. */
    long firstNonFinite(Tensor t);

    /** Σ t[i]², accumulated in double (the squared L2 norm; NaN if any element is NaN). */
    double sumOfSquares(Tensor t);

    /** t[i] = min(max(t[i], low), high). */
    void clamp(Tensor t, float low, float high);

    // ---- row-wise / column-wise -----------------------------------------------------------

    /** y[r, c] += bias[c] for every row r of the matrix y. */
    void addRowVector(Tensor y, Tensor bias);

    /** out[c] = beta · out[c] + Σ_r x[r, c]. */
    void sumRows(Tensor x, float beta, Tensor out);

    /** y = softmax(x) over each row. */
    void softmaxRows(Tensor x, Tensor y);

    /** dx[r, :] = y[r, :] ⊙ (dy[r, :] − ⟨dy[r, :], y[r, :]⟩), the softmax Jacobian-vector product. */
    void softmaxRowsBackward(Tensor y, Tensor dy, Tensor dx);

    /** For each row r, the column index of its largest element (the first one on ties). */
    void argmaxRows(Tensor x, int[] out);

    // ---- dropout ------------------------------------------------------------------------

    /**
     * Fills {@code mask} ({@code rows × cols}) with 0 (probability p) or 1/(1 − p). The draw
     * for element (r, c) depends only on (key, rowIds[r], c), so a sample gets the same mask
     * whichever batch position, worker or backend it is computed on.
     */
    void dropoutMask(Tensor mask, float p, long key, long[] rowIds);

    // ---- batch normalisation --------------------------------------------------------------

    /**
     * Per-column batch statistics of x (rows = batch): mean[c] and the biased variance var[c].
     */
    void columnMeanVariance(Tensor x, Tensor mean, Tensor var);

    /**
     * y = (x − mean) · invStd · gamma + beta per column, with invStd[c] = 1/√(var[c] + eps);
     * writes invStd. gamma/beta may be null (no affine transform).
     */
    void batchNormApply(Tensor x, Tensor mean, Tensor var, float eps, Tensor gamma, Tensor beta,
                        Tensor invStd, Tensor y);

    /**
     * Backward of batch normalisation. Given x, the mean and invStd used in the forward pass,
     * gamma (null when not affine) and dy: writes dGamma = Σ dy·x̂ and dBeta = Σ dy (when not
     * null) and dx (when not null). With {@code batchStatistics} (training mode) dx includes
     * the paths through the batch mean and variance; without (eval mode, running statistics)
     * dx = dy·gamma·invStd.
     */
    void batchNormBackward(Tensor x, Tensor mean, Tensor invStd, Tensor gamma, Tensor dy,
                           Tensor dGamma, Tensor dBeta, Tensor dx, boolean batchStatistics);

    // ---- losses (fused forward + gradient) ------------------------------------------------

    /**
     * Cross-entropy of logits (rows = samples) against class indices, via a stable
     * log-softmax. Returns the sum over rows of −log softmax(x)[label]; when grad is not null,
     * writes grad = gradScale · (softmax(x) − onehot(label)).
     */
    double crossEntropyWithLogits(Tensor logits, int[] labels, float gradScale, Tensor grad);

    /**
     * Binary cross-entropy on logits: Σ max(x,0) − x·t + log(1 + e^−|x|); grad = gradScale ·
     * (σ(x) − t).
     */
    double binaryCrossEntropyWithLogits(Tensor logits, Tensor targets, float gradScale, Tensor grad);

    /**
     * Binary cross-entropy on probabilities: Σ −(t·log p + (1 − t)·log(1 − p)), each log clamped
     * at −100 as PyTorch does; grad = gradScale · (p − t)/max(p(1 − p), 1e-12).
     */
    double binaryCrossEntropy(Tensor probabilities, Tensor targets, float gradScale, Tensor grad);

    /** Σ (y − t)²; grad = gradScale · 2(y − t). */
    double squaredError(Tensor output, Tensor targets, float gradScale, Tensor grad);
}
