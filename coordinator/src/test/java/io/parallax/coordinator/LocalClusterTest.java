package io.parallax.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.engine.backend.Backends;
import io.parallax.engine.io.ModelFile;
import io.parallax.engine.layer.BatchNorm1d;
import io.parallax.engine.model.Sequential;
import io.parallax.proto.v1.BatchNormLayer;
import io.parallax.proto.v1.JobSpec;
import io.parallax.proto.v1.LayerSpec;
import io.parallax.proto.v1.LinearLayer;
import io.parallax.worker.job.DataRoots;
import io.parallax.worker.job.JobPlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Single-node mode reads a job's data once: its workers share the coordinator's loaded plan. */
class LocalClusterTest {

    @Test
    void workersTrainOnTheLoadedPlanWithoutReadingTheDataAgain(@TempDir Path tmp) throws Exception {
        Path csv = Files.copy(SingleNodeDeterminismTest.EXAMPLES.resolve("data/breast_cancer.csv"),
                tmp.resolve("breast_cancer.csv"));
        JobSpec base = SingleNodeDeterminismTest.job();
        JobSpec spec = base.toBuilder().setEpochs(1).setData(base.getData().toBuilder().setTrain(
                base.getData().getTrain().toBuilder().setCsv(base.getData().getTrain().getCsv().toBuilder()
                        .setPath(csv.toString())))).build();
        JobPlan plan = JobPlan.load(spec, DataRoots.of(List.of(tmp)));
        // gone from the disk: a worker that read it again would fail to prepare, and the job with it
        Files.delete(csv);
        try (LocalCluster cluster = LocalCluster.start(2, Backends.cpu(), List.of(tmp))) {
            JobRunner.Result result = cluster.run(plan, null);
            assertEquals(2, result.epochs().get(0).workers());
            assertTrue(result.epochs().get(0).valAccuracy() > 0.8, result.epochs().toString());
        }
    }

    /**
     * A cancel that comes before the run's runner exists (a Ctrl-C while the data load) stops the
     * next run before its first step, instead of being lost and the run going to its end; it is
     * used up by that run.
     */
    @Test
    void aCancelBeforeTheRunStopsItBeforeItsFirstStepOnce() throws Exception {
        JobPlan plan = JobPlan.load(SingleNodeDeterminismTest.job().toBuilder().setEpochs(1).build(),
                DataRoots.of(List.of(SingleNodeDeterminismTest.EXAMPLES)));
        try (LocalCluster cluster = LocalCluster.start(1, Backends.cpu(), List.of(SingleNodeDeterminismTest.EXAMPLES))) {
            cluster.cancelRunning();
            List<JobListener.StepReport> steps = new java.util.concurrent.CopyOnWriteArrayList<>();
            JobListener counting = new JobListener() {
                @Override
                public void onStep(StepReport step) {
                    steps.add(step);
                }
            };
            JobCancelledException e = org.junit.jupiter.api.Assertions.assertThrows(JobCancelledException.class,
                    () -> cluster.run(plan, counting));
            assertEquals("cancelled after 0 step(s)", e.getMessage());
            assertEquals(List.of(), steps);
            assertEquals(1, cluster.run(plan, counting).epochs().size(), "the next run is not cancelled");
        }
    }

    /** Workers that take long to prepare a job (reading thousands of images) are said to be at it, once. */
    @Test
    void aSlowPreparationIsToldOnce() throws Exception {
        JobPlan plan = JobPlan.load(SingleNodeDeterminismTest.job().toBuilder().setEpochs(1).build(),
                DataRoots.of(List.of(SingleNodeDeterminismTest.EXAMPLES)));
        List<String> notes = new java.util.concurrent.CopyOnWriteArrayList<>();
        long before = JobWorkers.slowPreparationNanos;
        JobWorkers.slowPreparationNanos = 0; // every preparation is slow
        try (LocalCluster cluster = LocalCluster.start(2, Backends.cpu(), List.of(SingleNodeDeterminismTest.EXAMPLES))) {
            cluster.run(plan, new JobListener() {
                @Override
                public void onEvent(String message) {
                    notes.add(message);
                }
            });
        } finally {
            JobWorkers.slowPreparationNanos = before;
        }
        List<String> told = notes.stream().filter(n -> n.contains("still preparing the job")).toList();
        assertEquals(1, told.size(), notes.toString());
        assertTrue(told.get(0).matches("[12] of 2 worker\\(s\\) still preparing the job \\(each reads its data\\); waiting up "
                + "to \\d+ s more"), told.get(0));
    }

    @Test
    void batchNormCountsItsStepsOnFromTheModelItStartedFrom(@TempDir Path tmp) throws Exception {
        JobSpec.Builder b = SingleNodeDeterminismTest.job().toBuilder().setEpochs(1);
        b.getModelBuilder().clearLayers()
                .addLayers(LayerSpec.newBuilder().setLinear(
                        LinearLayer.newBuilder().setOutFeatures(8)))
                .addLayers(LayerSpec.newBuilder().setBatchNorm(
                        BatchNormLayer.getDefaultInstance()))
                .addLayers(LayerSpec.newBuilder().setLinear(
                        LinearLayer.newBuilder().setOutFeatures(2)));
        DataRoots roots = DataRoots.of(List.of(SingleNodeDeterminismTest.EXAMPLES, tmp));
        JobPlan plan = JobPlan.load(b.build(), roots);
        Sequential pretrained = plan.buildModel(Backends.cpu());
        ((BatchNorm1d) pretrained.layers().get(1)).setNumBatchesTracked(30);
        Path saved = tmp.resolve("tracked-30.safetensors");
        ModelFile.save(pretrained, saved);
        b.getModelBuilder().setInitFrom(saved.toString());
        try (LocalCluster cluster = LocalCluster.start(2, Backends.cpu(), List.of(SingleNodeDeterminismTest.EXAMPLES,
                tmp))) {
            JobRunner.Result r = cluster.run(b.build(), null);
            // as PyTorch's: the loaded count plus this job's steps (455 rows in batches of 50)
            assertEquals(10, r.steps());
            assertEquals(40, ((BatchNorm1d) r.model().layers().get(1)).numBatchesTracked());
        }
    }

    @Test
    void aJobStartingFromAModelTrainedOnOtherInputsIsToldSo(@TempDir Path tmp) throws Exception {
        JobSpec base = SingleNodeDeterminismTest.job().toBuilder().setEpochs(1).build();
        DataRoots roots = DataRoots.of(List.of(SingleNodeDeterminismTest.EXAMPLES, tmp));
        JobPlan pretrainedPlan = JobPlan.load(base, roots);
        Path saved = tmp.resolve("standardised.safetensors");
        ModelFile.save(pretrainedPlan.buildModel(Backends.cpu()), saved, pretrainedPlan.preprocessing());
        JobSpec.Builder b = base.toBuilder();
        b.getDataBuilder().setNormalization("min_max");
        b.getModelBuilder().setInitFrom(saved.toString());
        List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (LocalCluster cluster = LocalCluster.start(1, Backends.cpu(), List.of(SingleNodeDeterminismTest.EXAMPLES,
                tmp))) {
            cluster.run(b.build(), new JobListener() {
                @Override
                public void onEvent(String message) {
                    events.add(message);
                }
            });
        }
        assertTrue(events.contains("model.init_from was trained on inputs normalised with standardize; this job's are "
                + "normalised with min_max, so its loaded layers see inputs on another scale"), events.toString());
    }
}
