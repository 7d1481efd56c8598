package io.parallax.bench;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.data.Dataset;
import io.parallax.engine.layer.ForwardContext;
import io.parallax.engine.loss.CrossEntropyLoss;
import io.parallax.engine.loss.Targets;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.optim.Adam;
import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.optim.ParameterGroups;
import io.parallax.engine.tensor.Tensor;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Where a training step of {@link io.parallax.engine.train.Trainer}'s loop spends its time: the
 * same calls in the same order (gather the batch rows, copy them into the model's direct input
 * buffer, forward, cross-entropy, backward, optimizer step on the flat tensors), each phase timed
 * with {@code System.nanoTime}. The input's finiteness check, which {@link Sequential#forward}
 * runs first, is timed on its own. A clock read per phase costs ~25 ns, negligible next to the
 * phases. Last, Adam's update on plain {@code float[]} (no copies through the tensor path) is
 * timed alone, for comparison with the tensor-path step.
 */
final class TrainLoopProfile {

    private static final String[] PHASES = {"shuffle (amortised)", "batch gather (Dataset.gather + ids)",
        "copy batch into direct buffer", "input NaN/Inf check", "forward (3 Linear + 2 ReLU)",
        "cross-entropy (loss + gradient)", "backward", "optimizer step (Tensor path)"};

    private final Sequential model;
    private final Optimizer optimizer;
    private final Dataset data;
    private final int batch;
    private final SplittableRandom random;
    private final CrossEntropyLoss loss = new CrossEntropyLoss();

    TrainLoopProfile(Sequential model, Optimizer optimizer, Dataset data, int batch, long seed) {
        this.model = model;
        this.optimizer = optimizer;
        this.data = data;
        this.batch = batch;
        this.random = new SplittableRandom(seed);
    }

    /**
     * Runs {@code steps} warm-up steps, then {@code reps} repetitions of {@code steps} steps, and
     * returns the split as text: per phase the median and the best over the repetitions of the
     * mean µs per step. On a shared machine the best is the figure least touched by other load
     * (a repetition in which this thread was not descheduled), so before/after comparisons use it.
     */
    String run(int steps, int reps) {
        steps(steps, new long[PHASES.length]);
        double[][] us = new double[PHASES.length + 1][reps];
        for (int r = 0; r < reps; r++) {
            long[] nanos = new long[PHASES.length];
            steps(steps, nanos);
            for (int p = 0; p < PHASES.length; p++) {
                us[p][r] = nanos[p] / 1e3 / steps;
                us[PHASES.length][r] += us[p][r];
            }
        }
        double[] adam = new double[reps];
        for (int r = 0; r < reps; r++) {
            adam[r] = adamOnArraysMicros(steps);
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%ntraining-loop phases at batch %d: µs per step, median and best of %d"
                + " repetitions of %d steps (after %d warm-up steps)%n", batch, reps, steps, steps));
        double total = Repetitions.median(us[PHASES.length]);
        for (int p = 0; p <= PHASES.length; p++) {
            String name = p < PHASES.length ? PHASES[p] : "whole step (sum of phases)";
            double med = Repetitions.median(us[p]);
            sb.append(String.format(Locale.ROOT, "  %-42s %8.1f %8.1f  %5.1f%%%n", name, med,
                    Repetitions.best(us[p]), 100 * med / total));
        }
        double best = Repetitions.best(us[PHASES.length]);
        sb.append(String.format(Locale.ROOT, "  %-42s %,8.0f %,8.0f%n", "samples/s of the whole step", batch / (total
                / 1e6), batch / (best / 1e6)));
        sb.append(String.format(Locale.ROOT, "  %-42s %8.1f %8.1f%n", "for comparison: Adam on float[] (no copies)",
                Repetitions.median(adam), Repetitions.best(adam)));
        return sb.toString();
    }

    private void steps(int steps, long[] nanos) {
        Backend backend = model.backend();
        int width = data.width();
        int rows = data.rows();
        float[] host = new float[batch * width];
        int[] labels = new int[batch];
        long[] ids = new long[batch];
        Tensor x = Tensor.zeros(backend, batch, width);
        Tensor grad = Tensor.zeros(backend, batch, model.outputFeatures());
        int[] order = new int[rows];
        int next = rows; // reshuffle on the first step
        boolean checked = model.isTraining();
        model.train();
        model.setCheckInputs(false);
        try {
            for (int s = 0; s < steps; s++) {
                long t = System.nanoTime();
                if (next + batch > rows) {
                    shuffle(order);
                    next = 0;
                }
                t = lap(nanos, 0, t);
                data.gather(order, next, batch, host, labels);
                for (int i = 0; i < batch; i++) {
                    ids[i] = order[next + i];
                }
                next += batch;
                t = lap(nanos, 1, t);
                x.storage().copyFromHost(x.offset(), host, 0, batch * width);
                t = lap(nanos, 2, t);
                if (backend.firstNonFinite(x) >= 0) {
                    throw new IllegalStateException("Fashion-MNIST batch holds a non-finite value");
                }
                t = lap(nanos, 3, t);
                Tensor out = model.forward(x, new ForwardContext(true, model.seed(), 0, ids));
                t = lap(nanos, 4, t);
                double value = loss.compute(out, Targets.classes(labels), grad);
                if (!Double.isFinite(value)) {
                    throw new IllegalStateException("the loss is " + value);
                }
                t = lap(nanos, 5, t);
                model.backward(grad);
                t = lap(nanos, 6, t);
                optimizer.step(model.parameters(), model.gradients());
                lap(nanos, 7, t);
            }
        } finally {
            model.setCheckInputs(true);
            if (!checked) {
                model.eval();
            }
        }
    }

    /** Mean µs of a fresh Adam's update on host arrays the size of the model (after warm-up). */
    private double adamOnArraysMicros(int steps) {
        float[] p = new float[(int) model.parameters().size()];
        float[] g = new float[p.length];
        model.parameters().storage().copyToHost(model.parameters().offset(), p, 0, p.length);
        model.gradients().storage().copyToHost(model.gradients().offset(), g, 0, g.length);
        Optimizer adam = Adam.builder().lr(1e-3).build(ParameterGroups.of(model));
        for (int s = 0; s < steps; s++) {
            adam.step(p, g);
        }
        long t = System.nanoTime();
        for (int s = 0; s < steps; s++) {
            adam.step(p, g);
        }
        return (System.nanoTime() - t) / 1e3 / steps;
    }

    private void shuffle(int[] order) {
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
    }

    private static long lap(long[] nanos, int phase, long since) {
        long now = System.nanoTime();
        nanos[phase] += now - since;
        return now;
    }
}
