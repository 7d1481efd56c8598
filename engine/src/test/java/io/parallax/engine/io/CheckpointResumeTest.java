package io.parallax.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.parallax.engine.backend.Backends;
import io.parallax.engine.clip.GradientClipping;
import io.parallax.engine.data.Dataset;
import io.parallax.engine.layer.BatchNorm1d;
import io.parallax.engine.layer.Dropout;
import io.parallax.engine.layer.Layer;
import io.parallax.engine.layer.Linear;
import io.parallax.engine.layer.ReLU;
import io.parallax.engine.loss.CrossEntropyLoss;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.optim.OptimizerState;
import io.parallax.engine.optim.Optimizers;
import io.parallax.engine.optim.ParameterGroups;
import io.parallax.engine.schedule.CosineAnnealing;
import io.parallax.engine.schedule.LearningRateSchedule;
import io.parallax.engine.schedule.StepDecay;
import io.parallax.engine.testing.TabularDataset;
import io.parallax.engine.testing.TinyDatasets;
import io.parallax.engine.train.Trainer;
import io.parallax.engine.train.TrainingConfig;
import io.parallax.engine.train.TrainingPosition;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The resume property end to end, through a checkpoint file: N steps, save, load into a freshly
 * built model and optimizer, M steps gives the same bits as N+M steps without a stop, for the
 * parameters, the BatchNorm running statistics and num_batches_tracked, the optimizer's state and
 * the trainer's position. The model has Dropout (masks keyed by epoch and sample) and BatchNorm1d
 * (buffers updated every step); the data are the 455 Breast Cancer training rows, batch 32, so an
 * epoch is 15 steps (the last one of 7 rows).
 */
class CheckpointResumeTest {

    static final int BATCH = 32;
    static final int STEPS_PER_EPOCH = 15;
    static final long SEED = 11;
    static final Dataset TRAIN = dataset(TinyDatasets.breastCancerStandardized().train());

    @TempDir
    Path dir;

    /** An optimizer by its factory name and hyperparameters, with its main options on. */
    record OptimizerCase(String name, Map<String, Object> hyperparameters) {
        Optimizer build(Sequential model) {
            return Optimizers.create(name, hyperparameters, ParameterGroups.of(model));
        }

        @Override
        public String toString() {
            return name + hyperparameters;
        }
    }

    static final List<OptimizerCase> OPTIMIZERS = List.of(
            new OptimizerCase("sgd", Map.of("lr", 0.05, "momentum", 0.9, "nesterov", true, "weight_decay", 1e-4)),
            new OptimizerCase("adam", Map.of("lr", 3e-3, "amsgrad", true, "weight_decay", 1e-4)),
            new OptimizerCase("adamw", Map.of("lr", 3e-3)),
            new OptimizerCase("rmsprop", Map.of("lr", 1e-3, "centered", true, "momentum", 0.5)),
            new OptimizerCase("adagrad", Map.of("lr", 0.05, "lr_decay", 1e-3, "initial_accumulator_value", 0.1)),
            new OptimizerCase("adadelta", Map.of("lr", 1.0)),
            new OptimizerCase("adamax", Map.of("lr", 3e-3)),
            new OptimizerCase("nadam", Map.of("lr", 3e-3, "momentum_decay", 4e-3)),
            new OptimizerCase("ftrl", Map.of("learning_rate", 0.05, "l1_regularization_strength", 1e-3,
                    "l2_regularization_strength", 1e-3, "beta", 0.1)));

    static Dataset dataset(TabularDataset t) {
        return new Dataset(t.features(), t.labels(), t.columns(), 2);
    }

    /** Linear, BatchNorm1d, ReLU, Dropout, Linear; {@code initSeed} only sets the initial weights. */
    static Sequential buildModel(long initSeed) {
        return new Sequential(30, List.of(new Linear(30, 12), new BatchNorm1d(12), new ReLU(), new Dropout(0.3f),
                new Linear(12, 2)), Backends.cpu(), initSeed);
    }

    static TrainingConfig config(LearningRateSchedule schedule, LearningRateSchedule.Granularity granularity) {
        return new TrainingConfig(4, BATCH, SEED, true, schedule, granularity, GradientClipping.byGlobalNorm(5.0));
    }

    static TrainingConfig plainConfig() {
        return config(null, LearningRateSchedule.Granularity.EPOCH);
    }

    /** A model, its optimizer and the trainer driving them. */
    record Run(Sequential model, Optimizer optimizer, Trainer trainer) {
        static Run fresh(OptimizerCase opt, TrainingConfig config, long initSeed) {
            Sequential m = buildModel(initSeed);
            Optimizer o = opt.build(m);
            return new Run(m, o, new Trainer(m, new CrossEntropyLoss(), o, config));
        }
    }

    // ---- the resume property --------------------------------------------------------------

    static Stream<OptimizerCase> optimizers() {
        return OPTIMIZERS.stream();
    }

    /** Every optimizer, stopping inside epoch 0 and resuming across the boundary into epoch 1. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("optimizers")
    void resumeAcrossAnEpochBoundaryIsBitExact(OptimizerCase opt) throws IOException {
        assertSplitEqualsStraight(opt, plainConfig(), 11, 10);
    }

    static Stream<Arguments> splits() {
        OptimizerCase sgd = OPTIMIZERS.get(0);
        OptimizerCase adam = OPTIMIZERS.get(1);
        OptimizerCase nadam = OPTIMIZERS.get(7);
        LearningRateSchedule warmCosine = new CosineAnnealing(0.01, 60, 1e-4).withWarmup(8, 0.1);
        TrainingConfig perStep = config(warmCosine, LearningRateSchedule.Granularity.STEP);
        TrainingConfig perEpoch = config(new StepDecay(0.01, 1, 0.5), LearningRateSchedule.Granularity.EPOCH);
        return Stream.of(
                Arguments.of("inside one epoch", adam, plainConfig(), 4, 6),
                Arguments.of("stop exactly at an epoch's end", sgd, plainConfig(), STEPS_PER_EPOCH, 7),
                Arguments.of("stop at the short last batch", adam, plainConfig(), STEPS_PER_EPOCH - 1, 3),
                Arguments.of("per-step cosine with warm-up, stop in the warm-up", adam, perStep, 5, 25),
                Arguments.of("per-step cosine with warm-up, across two epochs", nadam, perStep, 13, 24),
                Arguments.of("per-epoch step decay", sgd, perEpoch, 20, 20));
    }

    @ParameterizedTest(name = "{0}: {1}, {3}+{4} steps")
    @MethodSource("splits")
    void resumeIsBitExact(String what, OptimizerCase opt, TrainingConfig config, int n, int m) throws IOException {
        assertSplitEqualsStraight(opt, config, n, m);
    }

    private void assertSplitEqualsStraight(OptimizerCase opt, TrainingConfig config, int n, int m)
            throws IOException {
        Run straight = Run.fresh(opt, config, 1);
        assertEquals(n + m, straight.trainer().trainSteps(TRAIN, n + m));

        Run first = Run.fresh(opt, config, 1);
        assertEquals(n, first.trainer().trainSteps(TRAIN, n));
        Path file = dir.resolve("run.ckpt.safetensors");
        Checkpoint.save(file, first.model(), first.optimizer(), first.trainer().position());
        // the saved run goes on; the file must not depend on what it does next
        first.trainer().trainSteps(TRAIN, 2);

        // other initial weights, so only the checkpoint can make the runs agree
        Run resumed = Run.fresh(opt, config, 999);
        TrainingPosition at = Checkpoint.load(file, resumed.model(), resumed.optimizer());
        assertEquals(new TrainingPosition(n / STEPS_PER_EPOCH, n % STEPS_PER_EPOCH, n, SEED, BATCH), at);
        resumed.trainer().resume(at);
        assertEquals(m, resumed.trainer().trainSteps(TRAIN, m));

        assertSameState(straight, resumed);
    }

    /**
     * Shows the test above can fail: restoring model and optimizer but restarting the trainer
     * at step 0 (other shuffle order, other dropout masks) gives other weights.
     */
    @Test
    void withoutThePositionTheRunDiffers() throws IOException {
        OptimizerCase adam = OPTIMIZERS.get(1);
        Run straight = Run.fresh(adam, plainConfig(), 1);
        straight.trainer().trainSteps(TRAIN, 10);
        Run first = Run.fresh(adam, plainConfig(), 1);
        first.trainer().trainSteps(TRAIN, 4);
        Path file = dir.resolve("run.ckpt.safetensors");
        Checkpoint.save(file, first.model(), first.optimizer(), first.trainer().position());

        Run resumed = Run.fresh(adam, plainConfig(), 1);
        Checkpoint.load(file, resumed.model(), resumed.optimizer());
        resumed.trainer().trainSteps(TRAIN, 6); // not resumed: epoch 0 from its first batch
        assertFalse(sameBits(straight.model().parameters().toArray(), resumed.model().parameters().toArray()));
    }

    static void assertSameState(Run expected, Run actual) {
        assertArrayBits(expected.model().parameters().toArray(), actual.model().parameters().toArray(), "parameters");
        assertArrayBits(expected.model().buffers().toArray(), actual.model().buffers().toArray(),
                "buffers (running statistics)");
        assertEquals(batchesTracked(expected.model()), batchesTracked(actual.model()), "num_batches_tracked");
        assertEquals(expected.trainer().position(), actual.trainer().position());
        OptimizerState a = expected.optimizer().state();
        OptimizerState b = actual.optimizer().state();
        assertEquals(a.tensors().keySet(), b.tensors().keySet());
        a.tensors().forEach((name, values) -> assertArrayBits(values, b.tensor(name), "optimizer " + name));
        assertEquals(a.counters(), b.counters());
        assertEquals(a.scalars().keySet(), b.scalars().keySet());
        a.scalars().forEach((name, v) -> assertEquals(Double.doubleToLongBits(v),
                Double.doubleToLongBits(b.scalars().get(name)), "optimizer scalar " + name));
    }

    static List<Long> batchesTracked(Sequential model) {
        List<Long> out = new ArrayList<>();
        for (Layer l : model.layers()) {
            if (l instanceof BatchNorm1d bn) {
                out.add(bn.numBatchesTracked());
            }
        }
        assertFalse(out.isEmpty());
        return out;
    }

    static boolean sameBits(float[] a, float[] b) {
        if (a.length != b.length) {
            return false;
        }
        for (int i = 0; i < a.length; i++) {
            if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                return false;
            }
        }
        return true;
    }

    static void assertArrayBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            int e = Float.floatToRawIntBits(expected[i]);
            int a = Float.floatToRawIntBits(actual[i]);
            if (e != a) {
                fail(what + "[" + i + "]: expected " + expected[i] + " (bits " + Integer.toHexString(e) + "), got "
                        + actual[i] + " (bits " + Integer.toHexString(a) + ")");
            }
        }
    }

    // ---- the file stays a model file --------------------------------------------------------

    @Test
    void aCheckpointLoadsAsAModelFile() throws IOException {
        Run run = Run.fresh(OPTIMIZERS.get(1), plainConfig(), 1);
        run.trainer().trainSteps(TRAIN, 3);
        Path file = dir.resolve("run.ckpt.safetensors");
        Checkpoint.save(file, run.model(), run.optimizer(), run.trainer().position());

        Sequential loaded = ModelFile.load(file);
        assertArrayBits(run.model().parameters().toArray(), loaded.parameters().toArray(), "parameters");
        assertArrayBits(run.model().buffers().toArray(), loaded.buffers().toArray(), "buffers");
        assertEquals(batchesTracked(run.model()), batchesTracked(loaded));

        LoadResult r = ModelFile.loadInto(buildModel(5), file);
        assertEquals(List.of("optimizer.exp_avg", "optimizer.exp_avg_sq", "optimizer.max_exp_avg_sq"),
                r.unused().stream().sorted().toList());
        assertTrue(r.missing().isEmpty());
        assertEquals(new TrainingPosition(0, 3, 3, SEED, BATCH), Checkpoint.readPosition(file));
    }
}
