package io.parallax.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.engine.backend.Backends;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.train.EpochResult;
import io.parallax.engine.train.Trainer;
import io.parallax.proto.v1.JobSpec;
import io.parallax.worker.job.DataRoots;
import io.parallax.worker.job.JobFiles;
import io.parallax.worker.job.JobPlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The partition must not change the math: with the same seed and global batch, 1, 2 and 3
 * workers in single-node mode give the same weights after every step (within 1e-5 relative),
 * dropout included — its masks are keyed by (seed, epoch, sample), not by worker — and so does
 * the single-process {@link Trainer}.
 */
class SingleNodeDeterminismTest {

    static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();

    /** Float32 sums of 1, 2 or 3 partial GEMMs differ in the last bits; Adam then compounds them slowly. */
    static final double RELATIVE = 1e-5;

    static JobSpec job() {
        return JobFiles.parse("""
                {
                  "name": "determinism",
                  "model": {"layers": [
                    {"linear": {"out_features": 24}}, {"activation": {"type": "relu"}}, {"dropout": {"p": 0.25}},
                    {"linear": {"out_features": 12}}, {"activation": {"type": "tanh"}},
                    {"linear": {"out_features": 2}}]},
                  "loss": "cross_entropy",
                  "optimizer": {"name": "adam", "lr": 0.01},
                  "clipping": {"max_norm": 5.0},
                  "data": {"train": {"csv": {"path": "%s", "label_column": "target"}},
                           "validation_split": 0.2, "normalization": "standardize"},
                  "batch_size": 50, "epochs": 2, "seed": 11
                }""".formatted(EXAMPLES.resolve("data/breast_cancer.csv").toString().replace("\\", "/")));
    }

    private static List<float[]> run(int workers) throws Exception {
        return run(workers, job()).trace();
    }

    /** @param updateThreads helper threads of the coordinator's update seen alive during the run */
    private record Traced(List<float[]> trace, List<JobListener.StepReport> steps, JobRunner.Result result,
                          long updateThreads) {}

    private static Traced run(int workers, JobSpec spec) throws Exception {
        List<float[]> trace = new ArrayList<>();
        List<JobListener.StepReport> steps = new ArrayList<>();
        long[] updateThreads = new long[1];
        try (LocalCluster cluster = LocalCluster.start(workers, Backends.cpu(), List.of(EXAMPLES))) {
            JobRunner.Result result = cluster.run(spec, new JobListener() {
                @Override
                public void onParameters(long step, float[] parameters) {
                    trace.add(parameters.clone());
                }

                @Override
                public void onStep(StepReport step) {
                    steps.add(step);
                    if (steps.size() == 1) {
                        updateThreads[0] = Thread.getAllStackTraces().keySet().stream()
                                .filter(t -> t.getName().startsWith("parallax-update-")).count();
                    }
                }
            });
            return new Traced(trace, steps, result, updateThreads[0]);
        }
    }

    @Test
    void oneTwoAndThreeWorkersGiveTheSameWeightsAfterEveryStep() throws Exception {
        List<float[]> one = run(1);
        int stepsPerEpoch = (int) Math.ceil(455 / 50.0);
        assertEquals(2 * stepsPerEpoch, one.size());
        for (int workers : new int[] {2, 3}) {
            List<float[]> other = run(workers);
            assertEquals(one.size(), other.size());
            for (int s = 0; s < one.size(); s++) {
                assertClose(one.get(s), other.get(s), workers + " workers, step " + (s + 1));
            }
        }
    }

    @Test
    void aBatchWithFewerRowsThanWorkersLeavesTheRestOutOfThatStepOnly() throws Exception {
        // batches of 2 over 3 workers, and each epoch of 455 rows ends on a batch of 1. SGD: Adam's
        // division by √v would blow the last-bit differences of 228 tiny steps past the tolerance
        JobSpec base = job();
        JobSpec spec = base.toBuilder().setBatchSize(2).setEpochs(1)
                .setOptimizer(base.getOptimizer().toBuilder().setName("sgd")).build();
        List<float[]> one = run(1, spec).trace();
        Traced three = run(3, spec);
        assertEquals(228, one.size());
        assertEquals(one.size(), three.trace().size());
        for (int s = 0; s < one.size(); s++) {
            assertClose(one.get(s), three.trace().get(s), "3 workers at batch 2, step " + (s + 1));
        }
        // a step went to as many workers as it had rows; nobody failed a step for having none, and
        // all three workers are still in the job
        for (JobListener.StepReport step : three.steps()) {
            assertEquals(Math.min(3, step.rows()), step.workers(), "step " + step.step());
        }
        assertEquals(1, three.steps().get(three.steps().size() - 1).rows());
        assertEquals(0, three.result().redoneSteps());
        assertEquals(3, three.result().epochs().get(0).workers());
    }

    @Test
    void withBatchNormAStepGivesEachWorkerAtLeastTwoRows() throws Exception {
        // batches of 3 over 2 workers would give one of them a single row, on which batch norm
        // cannot train: each step goes to one worker; the last batch of 2 (455 = 151 × 3 + 2) too
        JobSpec base = job();
        JobSpec.Builder b = base.toBuilder().setBatchSize(3).setEpochs(1);
        b.getModelBuilder().addLayers(1, io.parallax.proto.v1.LayerSpec.newBuilder()
                .setBatchNorm(io.parallax.proto.v1.BatchNormLayer.getDefaultInstance()));
        Traced two = run(2, b.build());
        assertEquals(152, two.steps().size());
        for (JobListener.StepReport step : two.steps()) {
            assertEquals(1, step.workers(), "step " + step.step());
        }
        assertEquals(0, two.result().redoneSteps());
        // batches of 4: two rows each
        Traced four = run(2, b.setBatchSize(4).build());
        assertEquals(2, four.steps().get(0).workers());
    }

    @Test
    void aValidationSetSmallerThanTheWorkerCountIsEvaluatedWhole(@TempDir Path tmp) throws Exception {
        List<String> lines = Files.readAllLines(EXAMPLES.resolve("data/breast_cancer.csv"));
        Path validation = Files.write(tmp.resolve("two_rows.csv"), lines.subList(0, 3));
        JobSpec base = job();
        JobSpec spec = base.toBuilder().setEpochs(1).setData(base.getData().toBuilder().clearValidationSplit()
                .setValidation(base.getData().getTrain().toBuilder().setCsv(base.getData().getTrain().getCsv()
                        .toBuilder().setPath(validation.toString())))).build();
        try (LocalCluster cluster = LocalCluster.start(3, Backends.cpu(), List.of(EXAMPLES, tmp))) {
            JobRunner.Result result = cluster.run(spec, null);
            JobListener.EpochReport epoch = result.epochs().get(0);
            assertEquals(0, result.redoneSteps());
            assertEquals(3, epoch.workers());
            assertTrue(Double.isFinite(epoch.valLoss()), epoch.toString());
            double accuracy = epoch.valAccuracy();
            assertTrue(accuracy == 0 || accuracy == 0.5 || accuracy == 1, "2 rows: " + epoch);
        }
    }

    /**
     * With SGD, whose step is proportional to the gradient, so a gradient divided by the wrong
     * count shows (Adam's step barely depends on the gradient's scale); the element-wise losses
     * take PyTorch's mean over every output, not over the rows.
     */
    @ParameterizedTest
    @ValueSource(strings = {"cross_entropy", "mse", "bce_with_logits"})
    void singleNodeMatchesTheSingleProcessTrainer(String loss) throws Exception {
        JobSpec base = job();
        JobSpec spec = base.toBuilder().setLoss(loss)
                .setOptimizer(base.getOptimizer().toBuilder().setName("sgd").setLr(0.1)).build();
        TrainedAlone alone = trainAlone(spec);
        List<EpochResult> epochs = alone.epochs();
        assertEquals(2, epochs.size());
        Traced distributed = run(2, spec);
        assertSameTrace(alone.trace(), distributed.trace(), loss + ", trainer vs 2 workers");
        for (int e = 0; e < epochs.size(); e++) {
            JobListener.EpochReport report = distributed.result().epochs().get(e);
            assertEquals(epochs.get(e).trainLoss(), report.trainLoss(), 1e-5 * epochs.get(e).trainLoss(),
                    loss + ", train loss, epoch " + (e + 1));
            assertEquals(epochs.get(e).validation().loss(), report.valLoss(), 1e-5 * epochs.get(e).validation().loss(),
                    loss + ", validation loss, epoch " + (e + 1));
        }
    }

    /**
     * A model of 40k+ parameters: the coordinator splits the gradient sum, the optimizer (SGD
     * with momentum: state) and the publication over its update threads, and still steps as the
     * single-process trainer does.
     */
    @Test
    void anUpdateSplitOverThreadsMatchesTheSingleProcessTrainer() throws Exception {
        JobSpec base = job();
        JobSpec.Builder b = base.toBuilder().setEpochs(1)
                .setOptimizer(base.getOptimizer().toBuilder().setName("sgd").setLr(0.05).setMomentum(0.9));
        b.getModelBuilder().getLayersBuilder(0).getLinearBuilder().setOutFeatures(1200);
        JobSpec spec = b.build();
        TrainedAlone alone = trainAlone(spec);
        assertTrue(alone.trace().get(0).length >= io.parallax.engine.concurrent.RangeRunner.MIN_PARALLEL,
                "big enough to be split: " + alone.trace().get(0).length);
        Traced distributed = run(2, spec);
        assertSameTrace(alone.trace(), distributed.trace(), "trainer vs 2 workers");
        if (Runtime.getRuntime().availableProcessors() > 1) {
            assertTrue(distributed.updateThreads() > 0, "the coordinator had update helper threads");
        }
    }

    /** The single-process trainer's weights after every step, and its epochs. */
    private record TrainedAlone(List<float[]> trace, List<EpochResult> epochs) {}

    private static TrainedAlone trainAlone(JobSpec spec) throws Exception {
        JobPlan plan = JobPlan.load(spec, DataRoots.of(List.of(EXAMPLES)));
        Sequential model = plan.buildModel(Backends.cpu());
        Trainer trainer = new Trainer(model, plan.loss(io.parallax.engine.loss.Loss.Reduction.MEAN),
                plan.optimizer(model), plan.trainingConfig());
        List<float[]> trace = new ArrayList<>();
        trainer.setStepListener(position -> {
            trace.add(model.parameters().toArray());
            return true;
        });
        List<EpochResult> epochs = trainer.fit(plan.train(), plan.validation().orElseThrow(), null);
        return new TrainedAlone(trace, epochs);
    }

    private static void assertSameTrace(List<float[]> expected, List<float[]> actual, String what) {
        assertEquals(expected.size(), actual.size(), what + ": steps");
        for (int s = 0; s < expected.size(); s++) {
            assertClose(expected.get(s), actual.get(s), what + ", step " + (s + 1));
        }
    }

    static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double scale = Math.max(Math.abs(expected[i]), 1e-2);
            double rel = Math.abs(expected[i] - actual[i]) / scale;
            if (rel > worst) {
                worst = rel;
                at = i;
            }
        }
        assertTrue(worst <= RELATIVE, what + ": parameter " + at + " differs by " + worst + " relative ("
                + expected[Math.max(at, 0)] + " vs " + actual[Math.max(at, 0)] + ")");
    }
}
