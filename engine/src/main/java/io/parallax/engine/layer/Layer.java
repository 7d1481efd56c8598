package io.parallax.engine.layer;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * One stage of a {@link io.parallax.engine.model.Sequential} network, with its forward and
 * backward passes side by side.
 *
 * <p>Life cycle: a layer is configured by its constructor; the model then {@link #bind binds} it
 * to views of the model's flat parameter, gradient and buffer storages (so a layer never owns
 * parameter memory); then {@link #forward} and {@link #backward} alternate. {@code backward}
 * <em>overwrites</em> the layer's gradients (no accumulation), and uses what the last
 * {@code forward} saved. Output and input-gradient tensors belong to the layer and are reused by
 * the next pass: copy them if they must outlive it.
 */
public abstract class Layer {

    private boolean frozen;
    private int index = -1;
    protected Backend backend;

    /** The layer's type as the model description spells it, e.g. {@code "linear"}. */
    public abstract String type();

    /**
     * The width of this layer's output for an input of {@code inputFeatures}; fails with a
     * message naming the layer when the input does not fit.
     */
    public abstract int outputFeatures(int inputFeatures);

    /** Trainable parameters, in PyTorch's state_dict order. */
    public List<ParameterSpec> parameterSpecs() {
        return List.of();
    }

    /** Non-trainable state saved with the model (running statistics), in state_dict order. */
    public List<ParameterSpec> bufferSpecs() {
        return List.of();
    }

    /** Options that, with {@link #type()}, rebuild this layer (written into saved models). */
    public abstract Map<String, Object> config();

    /** Attaches the layer to its views; called once by the model. */
    public void bind(Backend backend, int index, List<Tensor> parameters, List<Tensor> gradients, List<Tensor> buffers) {
        this.backend = backend;
        this.index = index;
    }

    /** Computes the output for a [batch, features] input. */
    public abstract Tensor forward(Tensor x, ForwardContext context);

    /**
     * Given dL/d(output) for the last forward pass, writes this layer's parameter gradients
     * (unless frozen) and returns dL/d(input) when {@code needInputGradient}, else null.
     */
    public abstract Tensor backward(Tensor dy, boolean needInputGradient);

    /** A frozen layer's parameters get no gradient (it stays zero) and no update. */
    public boolean isFrozen() {
        return frozen;
    }

    public void setFrozen(boolean frozen) {
        this.frozen = frozen;
    }

    /** Position in the model (PyTorch's nn.Sequential index), −1 before binding. */
    public int index() {
        return index;
    }

    /** Number of trainable-parameter elements. */
    public long parameterCount() {
        return parameterSpecs().stream().mapToLong(ParameterSpec::size).sum();
    }

    /** "Linear#0(784→256)"-style name for messages. */
    public String describe() {
        return getClass().getSimpleName() + (index >= 0 ? "#" + index : "") + config();
    }

    @Override
    public String toString() {
        return describe();
    }

    /**
     * A float option as the double with the same shortest decimal form (0.2f becomes 0.2, not
     * 0.20000000298023224), so descriptions read as written and parse back to the same float.
     */
    protected static double decimal(float value) {
        return Double.parseDouble(Float.toString(value));
    }

    /** The layer's name in error messages about its input. */
    protected String where() {
        return "layer " + (index >= 0 ? index + " " : "") + "(" + getClass().getSimpleName() + ")";
    }
}
