package io.parallax.coordinator.service;

import akka.actor.typed.ActorSystem;
import io.parallax.coordinator.JobListener;
import io.parallax.coordinator.JobRunner;
import io.parallax.coordinator.LocalCluster;
import io.parallax.coordinator.WorkerRegistry;
import io.parallax.proto.v1.JobSpec;
import io.parallax.worker.job.JobFiles;
import io.parallax.worker.job.JobPlan;
import io.parallax.worker.plane.TensorExchange;

/**
 * What the {@link JobQueue} needs to run a job on the workers: the actor system, the live
 * workers, the tensor plane's exchange and the runner's deadlines. One for a cluster
 * coordinator, {@link #of(LocalCluster)} for single-node mode.
 */
public record TrainingCluster(ActorSystem<?> system, WorkerRegistry.LiveWorkers live, TensorExchange exchange,
                              JobRunner.Settings settings) {

    /** The workers of a single-node cluster. */
    public static TrainingCluster of(LocalCluster cluster) {
        return new TrainingCluster(cluster.system(), cluster.live(), cluster.exchange(), cluster.runnerSettings());
    }

    /** A runner for one job; the spec travels to the workers as JSON, exactly as submitted. */
    JobRunner runner(String jobId, JobSpec spec, JobPlan plan, JobListener listener) {
        return new JobRunner(jobId, JobFiles.toJson(spec), plan, system, live, exchange, settings, listener);
    }
}
