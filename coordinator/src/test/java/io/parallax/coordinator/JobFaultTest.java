package io.parallax.coordinator;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.engine.backend.Backends;
import io.parallax.proto.v1.JobSpec;
import io.parallax.worker.job.JobFiles;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A failure of the job's own computation is not a worker's fault: every worker would hit it, so
 * the job fails at that step with the error, instead of dropping each worker in turn and ending
 * with "no workers left".
 */
class JobFaultTest {

    @Test
    void aDivergedModelFailsTheJobAtTheStepWithoutDroppingWorkers() throws Exception {
        // lr 1e30: the first update sends the weights to ±1e30 and the second step's logits overflow
        JobSpec diverging = JobFiles.parse("""
                {
                  "name": "diverging",
                  "model": {"layers": [{"linear": {"out_features": 16}}, {"activation": {"type": "relu"}},
                                       {"linear": {"out_features": 2}}]},
                  "loss": "cross_entropy",
                  "optimizer": {"name": "sgd", "lr": 1e30},
                  "data": {"train": {"csv": {"path": "%s", "label_column": "target"}}},
                  "batch_size": 50, "epochs": 1, "seed": 11
                }""".formatted(SingleNodeDeterminismTest.EXAMPLES.resolve("data/breast_cancer.csv").toString()
                .replace("\\", "/")));
        List<String> events = new ArrayList<>();
        try (LocalCluster cluster = LocalCluster.start(2, Backends.cpu(), List.of(SingleNodeDeterminismTest.EXAMPLES))) {
            JobFailedException e = assertThrows(JobFailedException.class, () -> cluster.run(diverging,
                    new JobListener() {
                        @Override
                        public void onEvent(String message) {
                            events.add(message);
                        }
                    }));
            assertTrue(e.getMessage().startsWith("step 1 (epoch 1), on worker worker-0"), e.getMessage());
            assertTrue(e.getMessage().contains("diverged"), e.getMessage());
            assertTrue(events.stream().noneMatch(m -> m.contains("redoing")), events.toString());
        }
    }
}
