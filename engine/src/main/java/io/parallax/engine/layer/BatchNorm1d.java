package io.parallax.engine.layer;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.init.Initializer;
import io.parallax.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code torch.nn.BatchNorm1d(num_features, eps=1e-5, momentum=0.1, affine=True)} on
 * [batch, features] input.
 *
 * <p>Training mode: y = (x − μ_B)/√(σ²_B + eps)·γ + β with the batch mean μ_B and the
 * <em>biased</em> batch variance σ²_B; then running_mean ← (1 − m)·running_mean + m·μ_B and
 * running_var ← (1 − m)·running_var + m·σ²_B·n/(n − 1) (the <em>unbiased</em> variance, as
 * PyTorch), and num_batches_tracked += 1. A batch of one row is rejected in training mode, as
 * PyTorch does. Eval mode normalises with the running statistics and updates nothing.
 *
 * <p>Parameters γ (weight, ones) and β (bias, zeros) when affine; buffers running_mean (zeros)
 * and running_var (ones). num_batches_tracked is kept as a long and saved as int64.
 */
public final class BatchNorm1d extends Layer {

    public static final float DEFAULT_EPS = 1e-5f;
    public static final float DEFAULT_MOMENTUM = 0.1f;

    private final int features;
    private final float eps;
    private final float momentum;
    private final boolean affine;

    private Tensor gamma;
    private Tensor beta;
    private Tensor gammaGrad;
    private Tensor betaGrad;
    private Tensor runningMean;
    private Tensor runningVar;
    private long numBatchesTracked;

    private Tensor batchMean;
    private Tensor batchVar;
    private Tensor invStd;
    private Tensor input;
    private boolean trainedOnBatch;
    private final RowBuffer output = new RowBuffer();
    private final RowBuffer inputGrad = new RowBuffer();

    public BatchNorm1d(int features) {
        this(features, DEFAULT_EPS, DEFAULT_MOMENTUM, true);
    }

    public BatchNorm1d(int features, float eps, float momentum, boolean affine) {
        if (features <= 0) {
            throw new IllegalArgumentException("BatchNorm1d needs num_features > 0, got " + features);
        }
        if (!(eps > 0f) || !Float.isFinite(eps)) {
            throw new IllegalArgumentException("BatchNorm1d eps must be > 0, got " + eps);
        }
        if (!(momentum >= 0f && momentum <= 1f)) {
            throw new IllegalArgumentException("BatchNorm1d momentum must be in [0, 1], got " + momentum);
        }
        this.features = features;
        this.eps = eps;
        this.momentum = momentum;
        this.affine = affine;
    }

    public int numFeatures() {
        return features;
    }

    public float eps() {
        return eps;
    }

    public float momentum() {
        return momentum;
    }

    public boolean affine() {
        return affine;
    }

    public long numBatchesTracked() {
        return numBatchesTracked;
    }

    public void setNumBatchesTracked(long n) {
        numBatchesTracked = n;
    }

    @Override
    public String type() {
        return "batch_norm1d";
    }

    @Override
    public int outputFeatures(int inputFeatures) {
        if (inputFeatures != features) {
            throw new IllegalArgumentException(where() + " expects " + features + " features, got " + inputFeatures);
        }
        return features;
    }

    @Override
    public List<ParameterSpec> parameterSpecs() {
        List<ParameterSpec> specs = new ArrayList<>();
        if (affine) {
            specs.add(new ParameterSpec("weight", new int[] {features}, Initializer.ones(), features, features));
            specs.add(new ParameterSpec("bias", new int[] {features}, Initializer.zeros(), features, features));
        }
        return specs;
    }

    @Override
    public List<ParameterSpec> bufferSpecs() {
        return List.of(
                new ParameterSpec("running_mean", new int[] {features}, Initializer.zeros(), features, features),
                new ParameterSpec("running_var", new int[] {features}, Initializer.ones(), features, features));
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("num_features", features);
        c.put("eps", Layer.decimal(eps));
        c.put("momentum", Layer.decimal(momentum));
        c.put("affine", affine);
        return c;
    }

    @Override
    public void bind(Backend backend, int index, List<Tensor> parameters, List<Tensor> gradients, List<Tensor> buffers) {
        super.bind(backend, index, parameters, gradients, buffers);
        if (affine) {
            gamma = parameters.get(0);
            beta = parameters.get(1);
            gammaGrad = gradients.get(0);
            betaGrad = gradients.get(1);
        }
        runningMean = buffers.get(0);
        runningVar = buffers.get(1);
        batchMean = Tensor.zeros(backend, features);
        batchVar = Tensor.zeros(backend, features);
        invStd = Tensor.zeros(backend, features);
    }

    @Override
    public Tensor forward(Tensor x, ForwardContext context) {
        if (x.cols() != features) {
            throw new IllegalArgumentException(where() + " expects input [batch, " + features + "], got "
                    + Arrays.toString(x.shape()));
        }
        input = x;
        Tensor y = output.get(backend, x.rows(), features);
        trainedOnBatch = context.training();
        if (trainedOnBatch) {
            if (x.rows() < 2) {
                throw new IllegalArgumentException(where() + ": expected more than 1 value per feature when "
                        + "training, got a batch of " + x.rows() + " row");
            }
            backend.columnMeanVariance(x, batchMean, batchVar);
            backend.batchNormApply(x, batchMean, batchVar, eps, gamma, beta, invStd, y);
            updateRunningStatistics(x.rows());
        } else {
            backend.batchNormApply(x, runningMean, runningVar, eps, gamma, beta, invStd, y);
        }
        return y;
    }

    private void updateRunningStatistics(int n) {
        // running ← (1 − m)·running + m·batch, with the unbiased variance for running_var
        backend.scale(runningMean, 1f - momentum);
        backend.axpy(momentum, batchMean, runningMean);
        backend.scale(runningVar, 1f - momentum);
        backend.axpy(momentum * n / (n - 1f), batchVar, runningVar);
        numBatchesTracked++;
    }

    @Override
    public Tensor backward(Tensor dy, boolean needInputGradient) {
        if (input == null) {
            throw new IllegalStateException(where() + ": backward called before forward");
        }
        if (dy.rows() != input.rows() || dy.cols() != features) {
            throw new IllegalArgumentException(where() + " expects an output gradient [" + input.rows() + ", "
                    + features + "], got " + Arrays.toString(dy.shape()));
        }
        boolean paramGrads = affine && !isFrozen();
        Tensor dx = needInputGradient ? inputGrad.get(backend, dy.rows(), features) : null;
        if (!paramGrads && dx == null) {
            return null;
        }
        Tensor mean = trainedOnBatch ? batchMean : runningMean;
        backend.batchNormBackward(input, mean, invStd, gamma, dy, paramGrads ? gammaGrad : null,
                paramGrads ? betaGrad : null, dx, trainedOnBatch);
        return dx;
    }
}
