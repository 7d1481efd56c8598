package io.parallax.engine.layer;

import io.parallax.engine.backend.ActivationFunction;
import io.parallax.engine.tensor.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An activation applied to each element on its own, computed by the backend's kernel for
 * {@link #function()}. Subclasses only name the function and its parameter.
 */
public abstract class ElementwiseActivation extends Layer {

    private final ActivationFunction function;
    private final float parameter;
    private Tensor input;
    private Tensor outputView;
    private final RowBuffer output = new RowBuffer();
    private final RowBuffer inputGrad = new RowBuffer();

    protected ElementwiseActivation(ActivationFunction function, float parameter) {
        this.function = function;
        this.parameter = parameter;
    }

    public ActivationFunction function() {
        return function;
    }

    /** The function's parameter (LeakyReLU's slope, ELU's α); 0 where there is none. */
    public float parameter() {
        return parameter;
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
        input = x;
        outputView = output.get(backend, x.rows(), x.cols());
        backend.activation(function, parameter, x, outputView);
        return outputView;
    }

    @Override
    public Tensor backward(Tensor dy, boolean needInputGradient) {
        if (input == null) {
            throw new IllegalStateException(where() + ": backward called before forward");
        }
        if (dy.rows() != input.rows() || dy.cols() != input.cols()) {
            throw new IllegalArgumentException(where() + " expects an output gradient of shape "
                    + Arrays.toString(input.shape()) + ", got " + Arrays.toString(dy.shape()));
        }
        if (!needInputGradient) {
            return null;
        }
        Tensor dx = inputGrad.get(backend, input.rows(), input.cols());
        backend.activationBackward(function, parameter, input, outputView, dy, dx);
        return dx;
    }
}
