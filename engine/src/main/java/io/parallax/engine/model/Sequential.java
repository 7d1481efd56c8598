package io.parallax.engine.model;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.layer.ForwardContext;
import io.parallax.engine.layer.Layer;
import io.parallax.engine.layer.ParameterSpec;
import io.parallax.engine.random.CounterRng;
import io.parallax.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A network as a sequence of layers, PyTorch's {@code nn.Sequential}: layer i's tensors are named
 * {@code "i.weight"}, {@code "i.bias"}, … exactly as in a PyTorch state_dict.
 *
 * <p>All trainable parameters live in one flat storage ({@link #parameters()}), each layer's
 * tensors being views into it; gradients likewise ({@link #gradients()}, same layout), and the
 * non-trainable running statistics in a third ({@link #buffers()}). An optimizer or a gradient
 * exchange works on these whole buffers.
 *
 * <p>A model starts in training mode, as in PyTorch. {@link #backward} overwrites the gradients
 * of the last {@link #forward}; frozen layers keep a zero gradient and skip the weight-gradient
 * GEMMs, and no layer computes an input gradient that nothing below it needs.
 */
public final class Sequential {

    private final Backend backend;
    private final int inputFeatures;
    private final List<Layer> layers;
    private final int[] widths;
    private final FlatBuffers parameters;
    private final FlatBuffers gradients;
    private final FlatBuffers buffers;
    private final long seed;
    private boolean training = true;
    private boolean checkInputs = true;
    private long maskRound;

    /** A model on the default backend, initialised with seed 0. */
    public static Sequential of(int inputFeatures, Layer... layers) {
        return new Sequential(inputFeatures, List.of(layers), Backends.getDefault(), 0);
    }

    /**
     * Builds the model: checks that each layer accepts the previous one's width, allocates the
     * flat buffers, binds the layers and initialises every tensor from {@code seed} (the same
     * seed always gives the same weights).
     */
    public Sequential(int inputFeatures, List<Layer> layers, Backend backend, long seed) {
        if (inputFeatures <= 0) {
            throw new IllegalArgumentException("a model needs input features > 0, got " + inputFeatures);
        }
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("a model needs at least one layer");
        }
        this.backend = backend;
        this.inputFeatures = inputFeatures;
        this.layers = List.copyOf(layers);
        this.seed = seed;
        this.widths = new int[layers.size() + 1];
        widths[0] = inputFeatures;
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i).index() >= 0) {
                throw new IllegalArgumentException("layer " + i + " (" + layers.get(i).describe()
                        + ") already belongs to a model; create a new layer instance");
            }
            try {
                widths[i + 1] = layers.get(i).outputFeatures(widths[i]);
            } catch (IllegalArgumentException e) {
                // the layer is not bound yet, so its own message cannot say where it sits
                throw new IllegalArgumentException("layer " + i + " does not fit the model: " + e.getMessage(), e);
            }
        }
        parameters = new FlatBuffers(backend, this.layers, Layer::parameterSpecs);
        gradients = new FlatBuffers(backend, this.layers, Layer::parameterSpecs);
        buffers = new FlatBuffers(backend, this.layers, Layer::bufferSpecs);
        for (int i = 0; i < layers.size(); i++) {
            layers.get(i).bind(backend, i, parameters.perLayer.get(i), gradients.perLayer.get(i),
                    buffers.perLayer.get(i));
        }
        initialize(seed);
    }

    /** Re-draws every parameter and resets every buffer from {@code seed}. */
    public void initialize(long seed) {
        initialize(seed, parameters);
        initialize(seed, buffers);
    }

    private void initialize(long seed, FlatBuffers target) {
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            List<ParameterSpec> specs = target == buffers ? layer.bufferSpecs() : layer.parameterSpecs();
            for (int j = 0; j < specs.size(); j++) {
                ParameterSpec s = specs.get(j);
                float[] values = new float[s.size()];
                // one stream per tensor, so a tensor's values do not depend on the layers before it
                s.initializer().fill(values, s.fanIn(), s.fanOut(),
                        new SplittableRandom(CounterRng.key(seed, i, j, target == buffers ? 1 : 0)));
                target.perLayer.get(i).get(j).copyFrom(values);
            }
        }
    }

    // ---- passes -------------------------------------------------------------------------

    /**
     * Forward pass in the current mode. In training mode each call is a new dropout round, and
     * rows are identified by their batch position.
     */
    public Tensor forward(Tensor x) {
        return forward(x, new ForwardContext(training, seed, maskRound++, null));
    }

    /** Forward pass with an explicit context (mode, dropout key, row ids). */
    public Tensor forward(Tensor x, ForwardContext context) {
        if (x.backend() != backend) {
            throw new IllegalArgumentException("input lives on backend '" + x.backend().name()
                    + "' but the model on '" + backend.name() + "'");
        }
        if (x.cols() != inputFeatures) {
            throw new IllegalArgumentException("model input must be [batch, " + inputFeatures + "], got "
                    + java.util.Arrays.toString(x.shape()) + " (layer 0: " + layers.get(0).describe() + ")");
        }
        if (context.rowIds() != null && context.rowIds().length < x.rows()) {
            throw new IllegalArgumentException("forward got " + context.rowIds().length + " row ids for "
                    + x.rows() + " rows");
        }
        if (checkInputs) {
            long bad = backend.firstNonFinite(x);
            if (bad >= 0) {
                throw new IllegalArgumentException("input to layer 0 (" + layers.get(0).describe() + ") holds "
                        + x.get(bad) + " at row " + bad / x.cols() + ", column " + bad % x.cols());
            }
        }
        Tensor h = x;
        for (Layer layer : layers) {
            h = layer.forward(h, context);
        }
        return h;
    }

    /**
     * Backward pass from dL/d(output) of the last forward: writes the gradients of every
     * trainable layer. Returns nothing: the model's own input needs no gradient.
     */
    public void backward(Tensor gradOutput) {
        int lowestTrainable = lowestTrainableLayer();
        Tensor g = gradOutput;
        for (int i = layers.size() - 1; i >= 0 && i >= lowestTrainable; i--) {
            g = layers.get(i).backward(g, i > lowestTrainable);
        }
    }

    private int lowestTrainableLayer() {
        for (int i = 0; i < layers.size(); i++) {
            if (!layers.get(i).isFrozen() && layers.get(i).parameterCount() > 0) {
                return i;
            }
        }
        return Integer.MAX_VALUE;
    }

    // ---- mode, freezing -----------------------------------------------------------------

    /** Training mode (dropout active, batch norm on batch statistics); the default. */
    public Sequential train() {
        training = true;
        return this;
    }

    /** Evaluation mode (dropout off, batch norm on running statistics). */
    public Sequential eval() {
        training = false;
        return this;
    }

    public boolean isTraining() {
        return training;
    }

    /**
     * Whether {@link #forward} rejects inputs holding NaN or infinity (default on; costs one pass
     * over the input).
     */
    public void setCheckInputs(boolean check) {
        checkInputs = check;
    }

    /** Freezes or unfreezes layer {@code index}; a frozen layer's gradient is zeroed. */
    public void setFrozen(int index, boolean frozen) {
        Layer layer = layer(index);
        layer.setFrozen(frozen);
        for (Tensor g : gradients.perLayer.get(index)) {
            backend.fill(g, 0f);
        }
    }

    /** Freezes layers 0..k−1, e.g. a pretrained body under a new head. */
    public void freezeFirst(int k) {
        for (int i = 0; i < k; i++) {
            setFrozen(i, true);
        }
    }

    // ---- structure ----------------------------------------------------------------------

    public Backend backend() {
        return backend;
    }

    public long seed() {
        return seed;
    }

    public int inputFeatures() {
        return inputFeatures;
    }

    public int outputFeatures() {
        return widths[widths.length - 1];
    }

    public List<Layer> layers() {
        return layers;
    }

    public Layer layer(int index) {
        if (index < 0 || index >= layers.size()) {
            throw new IndexOutOfBoundsException("layer index " + index + " outside [0, " + layers.size() + ")");
        }
        return layers.get(index);
    }

    /** All trainable parameters, one contiguous vector in state_dict order. */
    public Tensor parameters() {
        return parameters.flat;
    }

    /** Gradients, same layout as {@link #parameters()}. */
    public Tensor gradients() {
        return gradients.flat;
    }

    /** Running statistics and other non-trainable state, one contiguous vector. */
    public Tensor buffers() {
        return buffers.flat;
    }

    /** Parameters by state_dict name ({@code "0.weight"}), in order. */
    public List<NamedTensor> namedParameters() {
        return Collections.unmodifiableList(parameters.named);
    }

    /** Gradients under their parameter's name. */
    public List<NamedTensor> namedGradients() {
        return Collections.unmodifiableList(gradients.named);
    }

    /** Buffers by state_dict name ({@code "1.running_mean"}), in order. */
    public List<NamedTensor> namedBuffers() {
        return Collections.unmodifiableList(buffers.named);
    }

    /** Total number of parameter elements. */
    public long parameterCount() {
        return parameters.flat.size();
    }

    public long trainableParameterCount() {
        return layers.stream().filter(l -> !l.isFrozen()).mapToLong(Layer::parameterCount).sum();
    }

    public long frozenParameterCount() {
        return parameterCount() - trainableParameterCount();
    }

    /** A table: index, layer, output width, parameters, frozen; then the totals. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%-4s %-60s %6s %12s%n", "#", "layer", "out", "params"));
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            String options = l.config().toString().replace("{", "(").replace("}", ")");
            sb.append(String.format("%-4d %-60s %6d %,12d%s%n", i, l.getClass().getSimpleName() + options,
                    widths[i + 1], l.parameterCount(), l.isFrozen() ? "  frozen" : ""));
        }
        sb.append(String.format("total %,d parameters: %,d trainable, %,d frozen%n", parameterCount(),
                trainableParameterCount(), frozenParameterCount()));
        return sb.toString();
    }

    /** Layer list for messages, e.g. {@code Sequential[Linear#0{…}, ReLU#1{}]}. */
    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        layers.forEach(l -> parts.add(l.describe()));
        return "Sequential" + parts;
    }
}
