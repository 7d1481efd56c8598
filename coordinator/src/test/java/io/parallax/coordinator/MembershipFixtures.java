package io.parallax.coordinator;

import io.parallax.proto.v1.JobSpec;
import io.parallax.worker.job.JobFiles;
import io.parallax.worker.plane.TensorPlane;
import io.parallax.worker.plane.TensorPlaneException;

/**
 * What the tests of workers leaving, failing and joining a running job share: a small job on the
 * shipped breast-cancer CSV (9 steps an epoch at batch 64 when it holds no rows out), and a plane
 * that forwards to the in-process one, for a test to override one call.
 */
final class MembershipFixtures {

    private MembershipFixtures() {}

    /**
     * 30 → 8 → ReLU → 2, cross-entropy, 2 epochs at batch 64, standardised.
     *
     * @param optimizer the optimizer as JSON, e.g. {@code {"name": "sgd", "lr": 0.01}}
     * @param holdOut   whether 20% of the rows are held out for validation (then 8 steps an epoch)
     */
    static JobSpec breastCancerJob(String name, String optimizer, boolean holdOut, long seed) {
        return JobFiles.parse("""
                {
                  "name": "%s",
                  "model": {"layers": [{"linear": {"out_features": 8}}, {"activation": {"type": "relu"}},
                                       {"linear": {"out_features": 2}}]},
                  "loss": "cross_entropy",
                  "optimizer": %s,
                  "data": {"train": {"csv": {"path": "%s", "label_column": "target"}},%s
                           "normalization": "standardize"},
                  "batch_size": 64, "epochs": 2, "seed": %d
                }""".formatted(name, optimizer, SingleNodeDeterminismTest.EXAMPLES.resolve("data/breast_cancer.csv")
                .toString().replace("\\", "/"), holdOut ? " \"validation_split\": 0.2," : "", seed));
    }

    /** A worker's plane that does what the in-process plane under it does, unless overridden. */
    abstract static class ForwardingPlane implements TensorPlane {

        private final TensorPlane plane;

        ForwardingPlane(TensorPlane plane) {
            this.plane = plane;
        }

        @Override
        public float[] fetchState(String jobId, long version, float[] reuse) throws TensorPlaneException {
            return plane.fetchState(jobId, version, reuse);
        }

        @Override
        public void pushGradient(String jobId, long step, int attempt, String worker, float[] gradient)
                throws TensorPlaneException {
            plane.pushGradient(jobId, step, attempt, worker, gradient);
        }

        @Override
        public boolean serializes() {
            return plane.serializes();
        }

        @Override
        public void close() {
            plane.close();
        }
    }
}
