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
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Where a training step of {@link io.parallax.engine.train.Trainer}'s loop spends its time: the
 * same calls in the same order (gather the batch rows straight into the model's direct input
 * tensor, forward, cross-entropy, backward, optimizer step on the flat tensors), each phase timed
 * in wall time and in the thread's CPU time. The input's finiteness check, which
 * {@link Sequential#forward} runs first, is timed on its own. Last, Adam's update on plain {@code float[]} (no copies through the tensor path) is
 * timed alone, for comparison with the tensor-path step.
 */
final class TrainLoopProfile {

    private static final String[] PHASES = {"shuffle (amortised)", "batch gather into the input tensor",
        "input NaN/Inf check", "forward (3 Linear + 2 ReLU)", "cross-entropy (loss + gradient)", "backward",
        "optimizer step (Tensor path)"};

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
        int n = PHASES.length;
        steps(steps, new Laps(n));
        double[][] us = new double[n + 1][reps];
        double[][] cpu = new double[n + 1][reps];
        for (int r = 0; r < reps; r++) {
            Laps laps = new Laps(n);
            steps(steps, laps);
            for (int p = 0; p < n; p++) {
                us[p][r] = laps.wall[p] / 1e3 / steps;
                us[n][r] += us[p][r];
                cpu[p][r] = laps.cpu[p] / 1e3 / steps;
                cpu[n][r] += cpu[p][r];
            }
        }
        double[] adam = new double[reps];
        for (int r = 0; r < reps; r++) {
            adam[r] = adamOnArraysMicros(steps);
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%ntraining-loop phases at batch %d: µs per step over %d repetitions of %d"
                + " steps (after %d warm-up steps)%n", batch, reps, steps, steps));
        sb.append(String.format(Locale.ROOT, "  %-42s %8s %8s %8s %8s %6s%n", "phase", "wall med", "wall min",
                "CPU med", "CPU min", "share"));
        double cpuTotal = Repetitions.median(cpu[n]);
        for (int p = 0; p <= n; p++) {
            String name = p < n ? PHASES[p] : "whole step (sum of phases)";
            double cpuMed = Repetitions.median(cpu[p]);
            sb.append(String.format(Locale.ROOT, "  %-42s %8.1f %8.1f %8.1f %8.1f %5.1f%%%n", name,
                    Repetitions.median(us[p]), Repetitions.best(us[p]), cpuMed, Repetitions.best(cpu[p]),
                    100 * cpuMed / cpuTotal));
        }
        sb.append(String.format(Locale.ROOT, "  %-42s %,8.0f %,8.0f %,8.0f %,8.0f%n", "samples/s of the whole step",
                batch / (Repetitions.median(us[n]) / 1e6), batch / (Repetitions.best(us[n]) / 1e6),
                batch / (cpuTotal / 1e6), batch / (Repetitions.best(cpu[n]) / 1e6)));
        sb.append(String.format(Locale.ROOT, "  %-42s %8s %8s %8.1f %8.1f%n", "for comparison: Adam on float[] (no copies)",
                "", "",
                Repetitions.median(adam), Repetitions.best(adam)));
        return sb.toString();
    }

    private void steps(int steps, Laps laps) {
        Backend backend = model.backend();
        int width = data.width();
        int rows = data.rows();
        float[] features = data.features();
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
                laps.start();
                if (next + batch > rows) {
                    shuffle(order);
                    next = 0;
                }
                laps.lap(0);
                for (int i = 0; i < batch; i++) {
                    int r = order[next + i];
                    x.storage().copyFromHost(x.offset() + (long) i * width, features, r * width, width);
                    labels[i] = data.labels()[r];
                    ids[i] = r;
                }
                next += batch;
                laps.lap(1);
                if (backend.firstNonFinite(x) >= 0) {
                    throw new IllegalStateException("Fashion-MNIST batch holds a non-finite value");
                }
                laps.lap(2);
                Tensor out = model.forward(x, new ForwardContext(true, model.seed(), 0, ids));
                laps.lap(3);
                double value = loss.compute(out, Targets.classes(labels), grad);
                if (!Double.isFinite(value)) {
                    throw new IllegalStateException("the loss is " + value);
                }
                laps.lap(4);
                model.backward(grad);
                laps.lap(5);
                optimizer.step(model.parameters(), model.gradients());
                laps.lap(6);
            }
        } finally {
            model.setCheckInputs(true);
            if (!checked) {
                model.eval();
            }
        }
    }

    /** Mean CPU µs of a fresh Adam's update on host arrays the size of the model (after warm-up). */
    private double adamOnArraysMicros(int steps) {
        float[] p = new float[(int) model.parameters().size()];
        float[] g = new float[p.length];
        model.parameters().storage().copyToHost(model.parameters().offset(), p, 0, p.length);
        model.gradients().storage().copyToHost(model.gradients().offset(), g, 0, g.length);
        Optimizer adam = Adam.builder().lr(1e-3).build(ParameterGroups.of(model));
        for (int s = 0; s < steps; s++) {
            adam.step(p, g);
        }
        long t = Laps.THREADS.getCurrentThreadCpuTime();
        for (int s = 0; s < steps; s++) {
            adam.step(p, g);
        }
        return (Laps.THREADS.getCurrentThreadCpuTime() - t) / 1e3 / steps;
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

    /**
     * Wall and thread CPU nanoseconds per phase. CPU time does not count the time this thread
     * waits while other processes hold the cores, so on a loaded machine it stays close to what
     * the phase costs (cache and memory contention still show); a CPU-clock read costs well under
     * a microsecond.
     */
    private static final class Laps {
        private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
        final long[] wall;
        final long[] cpu;
        private long lastWall;
        private long lastCpu;

        Laps(int phases) {
            wall = new long[phases];
            cpu = new long[phases];
        }

        void start() {
            lastWall = System.nanoTime();
            lastCpu = THREADS.getCurrentThreadCpuTime();
        }

        void lap(int phase) {
            long w = System.nanoTime();
            long c = THREADS.getCurrentThreadCpuTime();
            wall[phase] += w - lastWall;
            cpu[phase] += c - lastCpu;
            lastWall = w;
            lastCpu = c;
        }
    }
}
