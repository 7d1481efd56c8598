package io.parallax.engine.testing;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.layer.ForwardContext;
import io.parallax.engine.layer.Layer;
import io.parallax.engine.layer.ParameterSpec;
import io.parallax.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A layer that behaves exactly as the layer it wraps and records every {@link #backward} call,
 * so a test can see which layers a model asked for which gradients (e.g. that a model never
 * asks its first layer for an input gradient, or never back-propagates into frozen layers).
 */
public final class RecordingLayer extends Layer {

    private final Layer inner;
    private final List<Boolean> backwardCalls = new ArrayList<>();

    public RecordingLayer(Layer inner) {
        this.inner = inner;
    }

    /** The wrapped layer. */
    public Layer inner() {
        return inner;
    }

    /** The {@code needInputGradient} flag of each backward call so far, oldest first. */
    public List<Boolean> backwardCalls() {
        return Collections.unmodifiableList(backwardCalls);
    }

    /** Forgets the calls recorded so far. */
    public void clear() {
        backwardCalls.clear();
    }

    @Override
    public String type() {
        return inner.type();
    }

    @Override
    public int outputFeatures(int inputFeatures) {
        return inner.outputFeatures(inputFeatures);
    }

    @Override
    public List<ParameterSpec> parameterSpecs() {
        return inner.parameterSpecs();
    }

    @Override
    public List<ParameterSpec> bufferSpecs() {
        return inner.bufferSpecs();
    }

    @Override
    public Map<String, Object> config() {
        return inner.config();
    }

    @Override
    public void bind(Backend backend, int index, List<Tensor> parameters, List<Tensor> gradients,
                     List<Tensor> buffers) {
        super.bind(backend, index, parameters, gradients, buffers);
        inner.bind(backend, index, parameters, gradients, buffers);
    }

    @Override
    public Tensor forward(Tensor x, ForwardContext context) {
        return inner.forward(x, context);
    }

    @Override
    public Tensor backward(Tensor dy, boolean needInputGradient) {
        backwardCalls.add(needInputGradient);
        return inner.backward(dy, needInputGradient);
    }

    @Override
    public boolean isFrozen() {
        return inner.isFrozen();
    }

    @Override
    public void setFrozen(boolean frozen) {
        super.setFrozen(frozen);
        inner.setFrozen(frozen);
    }

    @Override
    public String describe() {
        return "Recording(" + inner.describe() + ")";
    }
}
