package io.parallax.engine.layer;

import io.parallax.engine.tensor.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code torch.nn.Softmax(dim=1)} over the features of each row: y_i = e^{x_i − max} / Σ_j
 * e^{x_j − max}. Backward: dx = y ⊙ (dy − ⟨dy, y⟩).
 *
 * <p>For classification, end the model with logits and use
 * {@link io.parallax.engine.loss.CrossEntropyLoss}, which fuses a stable log-softmax; a Softmax
 * layer is for models whose output must be probabilities.
 */
public final class Softmax extends Layer {

    private Tensor outputView;
    private final RowBuffer output = new RowBuffer();
    private final RowBuffer inputGrad = new RowBuffer();

    @Override
    public String type() {
        return "softmax";
    }

    @Override
    public int outputFeatures(int inputFeatures) {
        return inputFeatures;
    }

    @Override
    public Map<String, Object> config() {
        return new LinkedHashMap<>();
    }

    @Override
    public Tensor forward(Tensor x, ForwardContext context) {
        outputView = output.get(backend, x.rows(), x.cols());
        backend.softmaxRows(x, outputView);
        return outputView;
    }

    @Override
    public Tensor backward(Tensor dy, boolean needInputGradient) {
        if (outputView == null) {
            throw new IllegalStateException(where() + ": backward called before forward");
        }
        if (dy.rows() != outputView.rows() || dy.cols() != outputView.cols()) {
            throw new IllegalArgumentException(where() + " expects an output gradient of shape "
                    + Arrays.toString(outputView.shape()) + ", got " + Arrays.toString(dy.shape()));
        }
        if (!needInputGradient) {
            return null;
        }
        Tensor dx = inputGrad.get(backend, outputView.rows(), outputView.cols());
        backend.softmaxRowsBackward(outputView, dy, dx);
        return dx;
    }
}
