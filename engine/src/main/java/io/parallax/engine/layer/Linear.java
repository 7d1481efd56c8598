package io.parallax.engine.layer;

import io.parallax.engine.init.Initializer;
import io.parallax.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fully connected layer, {@code torch.nn.Linear}: y = x·Wᵀ + b.
 *
 * <p>Shapes: x [batch, in], W [out, in] (PyTorch's layout), b [out], y [batch, out].
 * Forward: y is filled with the bias rows and the GEMM accumulates x·Wᵀ onto it (β = 1).
 * Backward: dW = dyᵀ·x, db = Σ_rows dy, dx = dy·W — three GEMMs with the transposes given to
 * BLAS as flags. A frozen layer skips dW and db; dx is skipped when nothing below needs it
 * (the first layer never computes it).
 *
 * <p>Initialisation: PyTorch's default, U(−1/√in, 1/√in) for W and b, unless another
 * {@link Initializer} is given for the weight (the bias then starts at zero, as is usual with
 * Xavier/He schemes, unless a bias initializer is given too).
 */
public final class Linear extends Layer {

    private final int in;
    private final int out;
    private final boolean bias;
    private final Initializer weightInit;
    private final Initializer biasInit;

    private Tensor weight;
    private Tensor biasParam;
    private Tensor weightGrad;
    private Tensor biasGrad;
    private Tensor input;
    private final RowBuffer output = new RowBuffer();
    private final RowBuffer inputGrad = new RowBuffer();

    public Linear(int in, int out) {
        this(in, out, true);
    }

    public Linear(int in, int out, boolean bias) {
        this(in, out, bias, new Initializer.PyTorchLinearDefault(), new Initializer.PyTorchLinearDefault());
    }

    public Linear(int in, int out, boolean bias, Initializer weightInit, Initializer biasInit) {
        if (in <= 0 || out <= 0) {
            throw new IllegalArgumentException("Linear needs in_features > 0 and out_features > 0, got in="
                    + in + ", out=" + out);
        }
        this.in = in;
        this.out = out;
        this.bias = bias;
        this.weightInit = weightInit;
        this.biasInit = biasInit;
    }

    /** A Linear layer whose weight uses {@code weightInit} and whose bias starts at zero. */
    public static Linear withInit(int in, int out, boolean bias, Initializer weightInit) {
        return new Linear(in, out, bias, weightInit, Initializer.zeros());
    }

    public int inFeatures() {
        return in;
    }

    public int outFeatures() {
        return out;
    }

    public boolean hasBias() {
        return bias;
    }

    @Override
    public String type() {
        return "linear";
    }

    @Override
    public int outputFeatures(int inputFeatures) {
        if (inputFeatures != in) {
            throw new IllegalArgumentException(where() + " expects " + in + " input features, got " + inputFeatures);
        }
        return out;
    }

    @Override
    public List<ParameterSpec> parameterSpecs() {
        List<ParameterSpec> specs = new ArrayList<>();
        specs.add(new ParameterSpec("weight", new int[] {out, in}, weightInit, in, out));
        if (bias) {
            specs.add(new ParameterSpec("bias", new int[] {out}, biasInit, in, out));
        }
        return specs;
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("in_features", in);
        c.put("out_features", out);
        c.put("bias", bias);
        return c;
    }

    @Override
    public void bind(io.parallax.engine.backend.Backend backend, int index, List<Tensor> parameters,
                     List<Tensor> gradients, List<Tensor> buffers) {
        super.bind(backend, index, parameters, gradients, buffers);
        weight = parameters.get(0);
        weightGrad = gradients.get(0);
        if (bias) {
            biasParam = parameters.get(1);
            biasGrad = gradients.get(1);
        }
    }

    @Override
    public Tensor forward(Tensor x, ForwardContext context) {
        if (x.cols() != in) {
            throw new IllegalArgumentException(where() + " expects input [batch, " + in + "], got "
                    + Arrays.toString(x.shape()));
        }
        input = x;
        Tensor y = output.get(backend, x.rows(), out);
        if (bias && x.rows() > 0) {
            // y starts as the bias in every row and the GEMM adds x·Wᵀ to it (β = 1): one pass
            // over y fewer than a GEMM with β = 0 followed by a bias add
            fillRows(y, biasParam);
            backend.gemm(false, true, 1f, x, weight, 1f, y);
        } else {
            backend.gemm(false, true, 1f, x, weight, 0f, y);
        }
        return y;
    }

    /**
     * Writes {@code row} into every row of {@code y} with whole-block copies: row 0 first, then
     * rows [0, k) onto [k, 2k), doubling, so a batch of n rows takes 1 + ⌈log₂ n⌉ bulk copies
     * (memcpy on the CPU, device copies on an accelerator) and no per-element loop.
     */
    private void fillRows(Tensor y, Tensor row) {
        int rows = y.rows();
        backend.copy(row, y.rows(0, 1));
        for (int done = 1; done < rows; done *= 2) {
            int k = Math.min(done, rows - done);
            backend.copy(y.rows(0, k), y.rows(done, k));
        }
    }

    @Override
    public Tensor backward(Tensor dy, boolean needInputGradient) {
        if (input == null) {
            throw new IllegalStateException(where() + ": backward called before forward");
        }
        if (dy.rows() != input.rows() || dy.cols() != out) {
            throw new IllegalArgumentException(where() + " expects an output gradient [" + input.rows() + ", "
                    + out + "], got " + Arrays.toString(dy.shape()));
        }
        if (!isFrozen()) {
            backend.gemm(true, false, 1f, dy, input, 0f, weightGrad);
            if (bias) {
                backend.sumRows(dy, 0f, biasGrad);
            }
        }
        if (!needInputGradient) {
            return null;
        }
        Tensor dx = inputGrad.get(backend, dy.rows(), in);
        backend.gemm(false, false, 1f, dy, weight, 0f, dx);
        return dx;
    }
}
