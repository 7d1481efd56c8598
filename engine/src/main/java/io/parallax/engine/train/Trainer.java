package io.parallax.engine.train;

import io.parallax.engine.data.Dataset;
import io.parallax.engine.layer.ForwardContext;
import io.parallax.engine.layer.RowBuffer;
import io.parallax.engine.loss.BinaryCrossEntropyLoss;
import io.parallax.engine.loss.BinaryCrossEntropyWithLogitsLoss;
import io.parallax.engine.loss.CrossEntropyLoss;
import io.parallax.engine.loss.Loss;
import io.parallax.engine.loss.Targets;
import io.parallax.engine.metric.Accuracy;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.random.CounterRng;
import io.parallax.engine.schedule.LearningRateSchedule;
import io.parallax.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Mini-batch training in one process: shuffle, forward, loss, backward, clip, schedule, optimizer
 * step — the loop the distributed runtime splits across workers, and its reference.
 *
 * <p>Targets come from the dataset's class labels: class indices for cross-entropy; the label as
 * a 0/1 value for a single-output binary loss; a one-hot row otherwise (e.g. MSE over classes).
 * Dropout masks are keyed by (seed, epoch, sample index), so they do not depend on batch
 * composition.
 */
public final class Trainer {

    private final Sequential model;
    private final Loss loss;
    private final Optimizer optimizer;
    private final TrainingConfig config;
    private final RowBuffer inputs = new RowBuffer();
    private final RowBuffer targetValues = new RowBuffer();
    private final RowBuffer outputGrad = new RowBuffer();
    private long steps;

    public Trainer(Sequential model, Loss loss, Optimizer optimizer, TrainingConfig config) {
        if (optimizer.groups().size() != model.parameterCount()) {
            throw new IllegalArgumentException("the optimizer was built for " + optimizer.groups().size()
                    + " parameters, the model has " + model.parameterCount());
        }
        this.model = model;
        this.loss = loss;
        this.optimizer = optimizer;
        this.config = config;
    }

    /** Trains for the configured epochs, evaluating on {@code validation} (may be null) after each. */
    public List<EpochResult> fit(Dataset train, Dataset validation, Consumer<EpochResult> onEpoch) {
        List<EpochResult> results = new ArrayList<>();
        for (int epoch = 0; epoch < config.epochs(); epoch++) {
            EpochResult r = trainEpoch(train, epoch, validation);
            results.add(r);
            if (onEpoch != null) {
                onEpoch.accept(r);
            }
        }
        return results;
    }

    /** One pass over {@code train} in training mode, then (if given) an evaluation. */
    public EpochResult trainEpoch(Dataset train, int epoch, Dataset validation) {
        checkWidth(train, "training");
        int[] order = order(train.rows(), epoch);
        int width = train.width();
        int batch = config.batchSize();
        int[] labels = new int[batch];
        long[] ids = new long[batch];
        double lossSum = 0;
        model.train();
        long start = System.nanoTime();
        for (int from = 0; from < order.length; from += batch) {
            int n = Math.min(batch, order.length - from);
            Tensor x = inputs.get(model.backend(), n, width);
            gather(train, order, from, n, x, labels, ids);
            int[] batchLabels = n == batch ? labels : java.util.Arrays.copyOf(labels, n);
            applySchedule(epoch);
            Tensor out = model.forward(x, new ForwardContext(true, config.seed(), epoch, ids));
            Tensor grad = outputGrad.get(model.backend(), n, out.cols());
            lossSum += loss.compute(out, targets(out, batchLabels, train.classes()), grad) * n;
            model.backward(grad);
            config.clipping().apply(model.gradients());
            optimizer.step(model.parameters(), model.gradients());
            steps++;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Evaluation eval = validation == null ? null : evaluate(validation);
        return new EpochResult(epoch, lossSum / order.length, order.length, seconds, optimizer.learningRate(), eval);
    }

    /**
     * Copies the rows {@code order[from..from+n)} of {@code data} straight into the input tensor
     * (one bulk copy per row, no intermediate host batch), with their labels and ids.
     */
    private static void gather(Dataset data, int[] order, int from, int n, Tensor x, int[] labels, long[] ids) {
        float[] features = data.features();
        int[] all = data.labels();
        int width = data.width();
        for (int i = 0; i < n; i++) {
            int r = order[from + i];
            x.storage().copyFromHost(x.offset() + (long) i * width, features, r * width, width);
            labels[i] = all[r];
            ids[i] = r;
        }
    }

    /** Mean loss and accuracy on {@code data} in evaluation mode (the model's mode is restored). */
    public Evaluation evaluate(Dataset data) {
        checkWidth(data, "evaluation");
        boolean wasTraining = model.isTraining();
        model.eval();
        int width = data.width();
        int batch = Math.max(config.batchSize(), 256);
        float[] host = new float[batch * width];
        int[] labels = new int[batch];
        int[] identity = new int[data.rows()];
        for (int i = 0; i < identity.length; i++) {
            identity[i] = i;
        }
        double lossSum = 0;
        long correct = 0;
        for (int from = 0; from < data.rows(); from += batch) {
            int n = Math.min(batch, data.rows() - from);
            data.gather(identity, from, n, host, labels);
            int[] batchLabels = java.util.Arrays.copyOf(labels, n);
            Tensor x = inputs.get(model.backend(), n, width);
            x.storage().copyFromHost(x.offset(), host, 0, n * width);
            Tensor out = model.forward(x, ForwardContext.eval());
            Targets t = targets(out, batchLabels, data.classes());
            lossSum += loss.compute(out, t) * n;
            correct += out.cols() == 1 && !(loss instanceof CrossEntropyLoss)
                    ? Accuracy.correctBinary(out, t.values(), !(loss instanceof BinaryCrossEntropyLoss))
                    : Accuracy.correctMultiClass(out, batchLabels);
        }
        if (wasTraining) {
            model.train();
        }
        return new Evaluation(lossSum / data.rows(), correct, data.rows());
    }

    /** Optimizer steps taken by this trainer. */
    public long steps() {
        return steps;
    }

    private void applySchedule(int epoch) {
        LearningRateSchedule s = config.schedule();
        if (s != null) {
            long t = config.granularity() == LearningRateSchedule.Granularity.STEP ? steps : epoch;
            optimizer.setLearningRate(s.learningRate(t));
        }
    }

    private Targets targets(Tensor out, int[] labels, int classes) {
        if (loss instanceof CrossEntropyLoss) {
            return Targets.classes(labels);
        }
        int n = labels.length;
        int cols = out.cols();
        float[] v = new float[n * cols];
        if (cols == 1) {
            if (classes > 2) {
                throw new IllegalArgumentException("a single-output model with " + loss.type()
                        + " needs two classes; the data has " + classes);
            }
            for (int i = 0; i < n; i++) {
                v[i] = labels[i];
            }
        } else {
            for (int i = 0; i < n; i++) {
                v[i * cols + labels[i]] = 1f;
            }
        }
        Tensor t = targetValues.get(model.backend(), n, cols);
        t.copyFrom(v);
        return Targets.values(t);
    }

    private int[] order(int rows, int epoch) {
        int[] order = new int[rows];
        for (int i = 0; i < rows; i++) {
            order[i] = i;
        }
        if (config.shuffle()) {
            SplittableRandom rng = new SplittableRandom(CounterRng.key(config.seed(), epoch, 0x5eed));
            for (int i = rows - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int tmp = order[i];
                order[i] = order[j];
                order[j] = tmp;
            }
        }
        return order;
    }

    private void checkWidth(Dataset data, String what) {
        if (data.width() != model.inputFeatures()) {
            throw new IllegalArgumentException("the " + what + " data has " + data.width()
                    + " features per row but the model's first layer expects " + model.inputFeatures());
        }
        if (!(loss instanceof BinaryCrossEntropyWithLogitsLoss || loss instanceof BinaryCrossEntropyLoss)
                && model.outputFeatures() > 1 && data.classes() > model.outputFeatures()) {
            throw new IllegalArgumentException("the " + what + " data has " + data.classes()
                    + " classes but the model has " + model.outputFeatures() + " outputs");
        }
    }
}
