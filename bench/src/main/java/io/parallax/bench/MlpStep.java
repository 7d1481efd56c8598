package io.parallax.bench;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.layer.ForwardContext;
import io.parallax.engine.layer.Layer;
import io.parallax.engine.layer.Linear;
import io.parallax.engine.layer.ReLU;
import io.parallax.engine.loss.CrossEntropyLoss;
import io.parallax.engine.loss.Targets;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One training step of an MLP with ReLU between its Linear layers (PyTorch default init):
 * forward, cross-entropy on the logits (mean), backward into the model's flat gradient buffer.
 * No optimizer, so the step is the same work PyTorch's {@code zero_grad(); loss.backward()} does.
 * The input is uniform in [0, 1) like pixel intensities, the labels uniform over the classes.
 */
final class MlpStep {

    private final Sequential model;
    private final CrossEntropyLoss loss = new CrossEntropyLoss();
    private final Tensor input;
    private final Targets targets;
    private final Tensor outputGrad;
    private double lastLoss;

    MlpStep(Backend backend, int batch, int... widths) {
        List<Layer> layers = new ArrayList<>();
        for (int l = 0; l + 1 < widths.length; l++) {
            if (l > 0) {
                layers.add(new ReLU());
            }
            layers.add(new Linear(widths[l], widths[l + 1]));
        }
        model = new Sequential(widths[0], layers, backend, 42);
        SplittableRandom random = new SplittableRandom(7);
        float[] x = new float[batch * widths[0]];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextDouble();
        }
        input = Tensor.of(backend, x, batch, widths[0]);
        int[] labels = new int[batch];
        int classes = widths[widths.length - 1];
        for (int r = 0; r < batch; r++) {
            labels[r] = random.nextInt(classes);
        }
        targets = Targets.classes(labels);
        outputGrad = Tensor.zeros(backend, batch, classes);
    }

    /** forward → loss and its gradient → backward, exactly as a training loop calls them. */
    void run() {
        Tensor out = model.forward(input);
        lastLoss = loss.compute(out, targets, outputGrad);
        model.backward(outputGrad);
    }

    /** The loss of the last step (keeps the work observable, and is printed as a sanity check). */
    double lastLoss() {
        return lastLoss;
    }

    /** Names of the phases {@link #runProfiled} times, in order. */
    List<String> phaseNames() {
        List<String> names = new ArrayList<>();
        names.add("input check");
        for (Layer layer : model.layers()) {
            names.add("fwd " + layer.describe());
        }
        names.add("cross-entropy");
        for (int i = model.layers().size() - 1; i >= 0; i--) {
            names.add("bwd " + model.layers().get(i).describe());
        }
        return names;
    }

    /**
     * The same step as {@link #run()}, layer by layer, adding each phase's nanoseconds to
     * {@code nanos} (indexed as {@link #phaseNames()}). The split costs a clock read per phase.
     */
    void runProfiled(long[] nanos) {
        Backend backend = model.backend();
        List<Layer> layers = model.layers();
        int p = 0;
        long t = System.nanoTime();
        if (backend.firstNonFinite(input) >= 0) {
            throw new IllegalStateException("benchmark input holds a non-finite value");
        }
        t = lap(nanos, p++, t);
        ForwardContext context = new ForwardContext(true, model.seed(), 0, null);
        Tensor h = input;
        for (Layer layer : layers) {
            h = layer.forward(h, context);
            t = lap(nanos, p++, t);
        }
        lastLoss = loss.compute(h, targets, outputGrad);
        t = lap(nanos, p++, t);
        Tensor g = outputGrad;
        for (int i = layers.size() - 1; i >= 0; i--) {
            g = layers.get(i).backward(g, i > 0);
            t = lap(nanos, p++, t);
        }
    }

    private static long lap(long[] nanos, int phase, long since) {
        long now = System.nanoTime();
        nanos[phase] += now - since;
        return now;
    }
}
