package io.parallax.engine.train;

import io.parallax.engine.data.Dataset;
import io.parallax.engine.layer.ForwardContext;
import io.parallax.engine.layer.RowBuffer;
import io.parallax.engine.loss.BinaryCrossEntropyLoss;
import io.parallax.engine.loss.BinaryCrossEntropyWithLogitsLoss;
import io.parallax.engine.loss.CrossEntropyLoss;
import io.parallax.engine.loss.Loss;
import io.parallax.engine.loss.Targets;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.schedule.LearningRateSchedule;
import io.parallax.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Mini-batch training in one process: shuffle, forward, loss, backward, clip, schedule, optimizer
 * step — the loop the distributed runtime splits across workers, and its reference.
 *
 * <p>Targets come from the dataset's class labels: class indices for cross-entropy; the label as
 * a 0/1 value for a single-output binary loss; a one-hot row otherwise (e.g. MSE over classes).
 * Dropout masks are keyed by (seed, epoch, sample index), so they do not depend on batch
 * composition.
 *
 * <p>Resuming: the trainer keeps a {@link TrainingPosition} (next epoch and batch, steps taken).
 * Save it with the model and the optimizer state ({@code io.Checkpoint}); a new trainer with the
 * same configuration, given the restored model and optimizer and {@link #resume}d at that
 * position, continues bit for bit as if the run had not stopped: the epoch's shuffle order,
 * the dropout masks and the schedule are functions of the position alone.
 * {@link #trainSteps} trains a given number of steps; a {@link StepListener} sees every step
 * and can stop the run.
 */
public final class Trainer {

    private final Sequential model;
    private final Loss loss;
    private final Optimizer optimizer;
    private final TrainingConfig config;
    private final RowBuffer inputs = new RowBuffer();
    private final BatchTargets targets;
    private final RowBuffer outputGrad = new RowBuffer();
    /** The next step's epoch, the batches of it already trained, and the steps taken so far. */
    private int epoch;
    private long stepInEpoch;
    private long steps;
    private StepListener stepListener;
    /** Set when the step listener asked to stop; cleared when training is called again. */
    private boolean stopRequested;

    public Trainer(Sequential model, Loss loss, Optimizer optimizer, TrainingConfig config) {
        if (optimizer.groups().size() != model.parameterCount()) {
            throw new IllegalArgumentException("the optimizer was built for " + optimizer.groups().size()
                    + " parameters, the model has " + model.parameterCount());
        }
        this.model = model;
        this.loss = loss;
        this.optimizer = optimizer;
        this.config = config;
        this.targets = new BatchTargets(loss);
    }

    /**
     * Trains from the current {@link #position()} (the start, or where {@link #resume} put it) to
     * the end of the configured epochs, evaluating on {@code validation} (may be null) after each
     * epoch. When the {@link StepListener} stops the run in the middle of an epoch, that partial
     * epoch is neither evaluated nor reported; the returned list holds the completed epochs.
     */
    public List<EpochResult> fit(Dataset train, Dataset validation, Consumer<EpochResult> onEpoch) {
        List<EpochResult> results = new ArrayList<>();
        stopRequested = false;
        while (epoch < config.epochs() && !stopRequested) {
            int e = epoch;
            Progress p = runEpoch(train, Long.MAX_VALUE);
            if (epoch == e) {
                break; // stopped inside the epoch
            }
            EpochResult r = result(e, p, validation);
            results.add(r);
            if (onEpoch != null) {
                onEpoch.accept(r);
            }
        }
        return results;
    }

    /**
     * One pass over {@code train} in training mode, then (if given) an evaluation. If the
     * trainer stands inside {@code epoch} (after {@link #resume} or a stop), the pass continues
     * from there and the result covers the remaining batches only; otherwise it starts the
     * epoch at its first batch.
     */
    public EpochResult trainEpoch(Dataset train, int epoch, Dataset validation) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
        }
        if (epoch != this.epoch) {
            this.epoch = epoch;
            stepInEpoch = 0;
        }
        stopRequested = false;
        return result(epoch, runEpoch(train, Long.MAX_VALUE), validation);
    }

    /**
     * Trains {@code count} steps from the current position, across epoch boundaries, and stops
     * there (or earlier at the end of the configured epochs, or when the step listener says so).
     * No evaluation is made.
     *
     * @return the steps taken
     */
    public long trainSteps(Dataset train, long count) {
        if (count < 0) {
            throw new IllegalArgumentException("step count must be >= 0, got " + count);
        }
        long taken = 0;
        stopRequested = false;
        while (taken < count && epoch < config.epochs() && !stopRequested) {
            taken += runEpoch(train, count - taken).steps;
        }
        return taken;
    }

    /**
     * Moves the trainer to a saved position (typically {@code Checkpoint.load}'s result, after
     * the model and the optimizer state were restored), so the following steps see the same
     * shuffle order, dropout masks and schedule values as the run that saved it. The position's
     * seed and batch size must be this trainer's; the rest of the configuration (shuffle,
     * schedule, clipping) must be the same too for the run to continue exactly, and is the
     * caller's to keep.
     *
     * @throws IllegalArgumentException if the seed or the batch size differ
     */
    public void resume(TrainingPosition position) {
        if (position.seed() != config.seed()) {
            throw new IllegalArgumentException("cannot resume at " + position + ": it was saved by a run with seed "
                    + position.seed() + ", this trainer's seed is " + config.seed()
                    + " (the shuffle order and dropout masks would differ)");
        }
        if (position.batchSize() != config.batchSize()) {
            throw new IllegalArgumentException("cannot resume at " + position + ": it was saved by a run with batch "
                    + "size " + position.batchSize() + ", this trainer's batch size is " + config.batchSize()
                    + " (the step within the epoch would point elsewhere in its order)");
        }
        epoch = position.epoch();
        stepInEpoch = position.stepInEpoch();
        steps = position.globalStep();
    }

    /** Where the trainer stands: the next step's epoch and batch, and the steps taken so far. */
    public TrainingPosition position() {
        return new TrainingPosition(epoch, stepInEpoch, steps, config.seed(), config.batchSize());
    }

    /** Sets the listener called after every step (null for none). */
    public void setStepListener(StepListener listener) {
        this.stepListener = listener;
    }

    /** What one call of {@link #runEpoch} did. */
    private record Progress(long steps, long samples, double lossSum, double seconds) {}

    /**
     * Trains the current epoch from batch {@link #stepInEpoch} until its end, {@code maxSteps}
     * steps, or a stop from the listener; at the epoch's end the position moves to the next
     * epoch's start.
     */
    private Progress runEpoch(Dataset train, long maxSteps) {
        checkWidth(train, "training");
        int[] order = order(train.rows(), epoch);
        int width = train.width();
        int batch = config.batchSize();
        long batches = (order.length + (long) batch - 1) / batch;
        if (batches > 0 && stepInEpoch >= batches) {
            throw new IllegalStateException("the position (" + position() + ") lies beyond the " + batches
                    + " batches of an epoch of " + order.length + " rows: not the dataset the run was saved with?");
        }
        int[] labels = new int[batch];
        long[] ids = new long[batch];
        double lossSum = 0;
        long samples = 0;
        long taken = 0;
        model.train();
        long start = System.nanoTime();
        int current = epoch;
        if (batches == 0) {
            epoch++; // an empty epoch is over at once
        }
        while (epoch == current && taken < maxSteps && !stopRequested) {
            int from = Math.toIntExact(stepInEpoch * batch);
            int n = Math.min(batch, order.length - from);
            Tensor x = inputs.get(model.backend(), n, width);
            gather(train, order, from, n, x, labels, ids);
            int[] batchLabels = n == batch ? labels : java.util.Arrays.copyOf(labels, n);
            applySchedule(current);
            Tensor out = model.forward(x, new ForwardContext(true, config.seed(), current, ids));
            Tensor grad = outputGrad.get(model.backend(), n, out.cols());
            lossSum += loss.compute(out, targets.of(out, batchLabels, train.classes()), grad) * n;
            model.backward(grad);
            config.clipping().apply(model.gradients());
            optimizer.step(model.parameters(), model.gradients());
            samples += n;
            taken++;
            steps++;
            stepInEpoch++;
            if (stepInEpoch == batches) {
                // the position moves on before the listener sees it, so a checkpoint saved at an
                // epoch's end resumes at the next epoch's start
                epoch++;
                stepInEpoch = 0;
            }
            if (stepListener != null && !stepListener.afterStep(position())) {
                stopRequested = true;
            }
        }
        return new Progress(taken, samples, lossSum, (System.nanoTime() - start) / 1e9);
    }

    private EpochResult result(int epoch, Progress p, Dataset validation) {
        Evaluation eval = validation == null ? null : evaluate(validation);
        return new EpochResult(epoch, p.samples == 0 ? 0 : p.lossSum / p.samples, p.samples, p.seconds,
                optimizer.learningRate(), eval);
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
            Targets t = targets.of(out, batchLabels, data.classes());
            lossSum += loss.compute(out, t) * n;
            correct += targets.correct(out, t, batchLabels);
        }
        if (wasTraining) {
            model.train();
        }
        return new Evaluation(lossSum / data.rows(), correct, data.rows());
    }

    /** Optimizer steps taken in this run, counting those before a {@link #resume}. */
    public long steps() {
        return steps;
    }

    private void applySchedule(int epoch) {
        LearningRateSchedule s = config.schedule();
        if (s != null) {
            long t = config.granularity() == LearningRateSchedule.Granularity.STEP ? steps : epoch;
            optimizer.setLearningRate(s.learningRate(t), s.unscaledPart(t));
        }
    }

    private int[] order(int rows, int epoch) {
        return EpochOrder.of(rows, config.seed(), epoch, config.shuffle());
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
