package io.parallax.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.engine.backend.Backends;
import io.parallax.proto.v1.JobSpec;
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
}
