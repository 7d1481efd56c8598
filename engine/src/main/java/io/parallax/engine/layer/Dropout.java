package io.parallax.engine.layer;

import io.parallax.engine.random.CounterRng;
import io.parallax.engine.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code torch.nn.Dropout(p=0.5)}: in training mode each element is zeroed with probability p
 * and the survivors are scaled by 1/(1 − p) (inverted dropout), so evaluation mode is the
 * identity. Backward multiplies by the same mask.
 *
 * <p>Masks come from {@link CounterRng} keyed by (seed, mask round, layer index) and countered by
 * (row id, feature), so a sample's mask depends on the sample, not on the batch it sits in or
 * the worker that computes it. The draws differ from PyTorch's generator: masks are
 * statistically, not bitwise, equal to PyTorch's.
 */
public final class Dropout extends Layer {

    /** PyTorch's default drop probability. */
    public static final float DEFAULT_P = 0.5f;

    private final float p;
    private boolean active;
    private Tensor maskView;
    private final RowBuffer mask = new RowBuffer();
    private final RowBuffer output = new RowBuffer();
    private final RowBuffer inputGrad = new RowBuffer();
    private long[] ids = new long[0];
    private int inputRows = -1;
    private int inputCols = -1;

    public Dropout() {
        this(DEFAULT_P);
    }

    public Dropout(float p) {
        if (!(p >= 0f && p < 1f)) {
            throw new IllegalArgumentException("Dropout probability p must be in [0, 1), got " + p);
        }
        this.p = p;
    }

    public float p() {
        return p;
    }

    @Override
    public String type() {
        return "dropout";
    }

    @Override
    public int outputFeatures(int inputFeatures) {
        return inputFeatures;
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("p", Layer.decimal(p));
        return c;
    }

    @Override
    public Tensor forward(Tensor x, ForwardContext context) {
        active = context.training() && p > 0f;
        inputRows = x.rows();
        inputCols = x.cols();
        if (!active) {
            return x;
        }
        int rows = x.rows();
        if (ids.length < rows) {
            ids = new long[rows];
        }
        for (int r = 0; r < rows; r++) {
            ids[r] = context.rowId(r);
        }
        maskView = mask.get(backend, rows, x.cols());
        backend.dropoutMask(maskView, p, CounterRng.key(context.seed(), context.maskRound(), index()), ids);
        Tensor y = output.get(backend, rows, x.cols());
        backend.multiply(x, maskView, y);
        return y;
    }

    @Override
    public Tensor backward(Tensor dy, boolean needInputGradient) {
        if (inputRows < 0) {
            throw new IllegalStateException(where() + ": backward called before forward");
        }
        if (dy.rows() != inputRows || dy.cols() != inputCols) {
            throw new IllegalArgumentException(where() + " expects an output gradient [" + inputRows + ", " + inputCols
                    + "], got " + java.util.Arrays.toString(dy.shape()));
        }
        if (!needInputGradient) {
            return null;
        }
        if (!active) {
            return dy;
        }
        Tensor dx = inputGrad.get(backend, dy.rows(), dy.cols());
        backend.multiply(dy, maskView, dx);
        return dx;
    }
}
