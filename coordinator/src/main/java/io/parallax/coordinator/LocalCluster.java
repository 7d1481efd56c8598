package io.parallax.coordinator;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.parallax.engine.backend.Backend;
import io.parallax.proto.v1.JobSpec;
import io.parallax.worker.WorkerActor;
import io.parallax.worker.WorkerEnvironment;
import io.parallax.worker.job.DataRoots;
import io.parallax.worker.job.JobFiles;
import io.parallax.worker.job.JobPlan;
import io.parallax.worker.plane.InProcessTensorPlane;
import io.parallax.worker.plane.TensorExchange;
import io.parallax.worker.plane.TensorPlane;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Single-node mode: a coordinator and N worker actors in one JVM, on an actor system without
 * remoting. Workers read the coordinator's weights and hand over their gradients by reference
 * through an {@link InProcessTensorPlane}, and share the coordinator's {@link JobPlan} (the data
 * set is read once, not once per worker); everything else — sharding, ordering, redoing steps —
 * is the cluster's code path.
 */
public final class LocalCluster implements AutoCloseable {

    private final ActorSystem<Void> system;
    private final TensorExchange exchange = new TensorExchange();
    private final WorkerRegistry.LiveWorkers live = new WorkerRegistry.LiveWorkers();
    private final List<Path> dataRoots;
    private final int workers;
    /** Plans of the jobs running, by the job JSON their workers are sent. */
    private final Map<String, JobPlan> plans = new ConcurrentHashMap<>();
    private int jobs;
    /** The job running now, if any (for {@link #cancelRunning}); guarded by this. */
    private volatile JobRunner running;
    /** A cancel that came while no job ran, for the next one; guarded by this. */
    private boolean cancelNext;

    private LocalCluster(int workers, Backend backend, List<Path> dataRoots, PlaneWrapper planes) {
        if (workers < 1) {
            throw new IllegalArgumentException("single-node mode needs at least 1 worker, got " + workers);
        }
        this.workers = workers;
        this.dataRoots = List.copyOf(dataRoots);
        // closed by its owner (a command's try, or its Ctrl-C handling), not by a JVM shutdown hook
        // of Akka's, which would stop the workers under a job still finishing its step
        Config config = ConfigFactory.parseString("akka.actor.provider = local\n"
                        + "akka.coordinated-shutdown.run-by-jvm-shutdown-hook = off\n"
                        + "parallax.compute-dispatcher.thread-pool-executor.fixed-pool-size = " + workers + "\n")
                .withFallback(ConfigFactory.load());
        system = ActorSystem.create(Behaviors.setup(ctx -> {
            ctx.spawn(WorkerRegistry.create(live), "workers");
            for (int i = 0; i < workers; i++) {
                String id = String.format("worker-%02d", i);
                ctx.spawn(WorkerActor.create(id, environment(backend, id, planes)), "worker-" + i,
                        DispatcherSelector.fromConfig("parallax.compute-dispatcher"));
            }
            return Behaviors.<Void>empty();
        }), "parallax", config);
        // its workers register in a moment; a job started before that would say it is waiting
        // for workers "0 live", which means nothing in one process
        try {
            live.await(workers, 30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** What a test puts between a worker and the in-process plane (a plane that fails, say). */
    @FunctionalInterface
    interface PlaneWrapper {
        TensorPlane wrap(String workerId, TensorPlane plane);
    }

    private WorkerEnvironment environment(Backend backend, String workerId, PlaneWrapper planes) {
        return new WorkerEnvironment() {
            @Override
            public Backend backend() {
                return backend;
            }

            @Override
            public List<Path> dataRoots() {
                return LocalCluster.this.dataRoots;
            }

            @Override
            public TensorPlane connect(String host, int port) {
                return planes.wrap(workerId, new InProcessTensorPlane(exchange));
            }

            @Override
            public JobPlan plan(String jobJson) {
                JobPlan running = plans.get(jobJson);
                return running != null ? running : WorkerEnvironment.super.plan(jobJson);
            }
        };
    }

    /** Starts {@code workers} worker actors computing on {@code backend}, reading data under {@code dataRoots}. */
    public static LocalCluster start(int workers, Backend backend, List<Path> dataRoots) {
        return new LocalCluster(workers, backend, dataRoots, (id, plane) -> plane);
    }

    /** As {@link #start(int, Backend, List)}, each worker's plane wrapped by {@code planes}. */
    static LocalCluster start(int workers, Backend backend, List<Path> dataRoots, PlaneWrapper planes) {
        return new LocalCluster(workers, backend, dataRoots, planes);
    }

    /** Runs {@code spec} on all this node's workers (the spec's own worker count is overridden); blocks. */
    public JobRunner.Result run(JobSpec spec, JobListener listener) throws JobFailedException, InterruptedException {
        return run(JobPlan.load(spec, DataRoots.of(dataRoots)), listener);
    }

    /**
     * Runs a job already loaded (by the caller, to validate it first) on all this node's workers,
     * which share its data; the plan's own worker count is overridden. Blocks.
     */
    public JobRunner.Result run(JobPlan loaded, JobListener listener) throws JobFailedException, InterruptedException {
        return run(loaded, listener, JobCheckpoints.NONE);
    }

    /** As {@link #run(JobPlan, JobListener)}, resuming from and saving to {@code checkpoints}. */
    public JobRunner.Result run(JobPlan loaded, JobListener listener, JobCheckpoints checkpoints)
            throws JobFailedException, InterruptedException {
        JobPlan plan = loaded.withWorkers(workers);
        String jobJson = JobFiles.toJson(plan.spec());
        String jobId = "local-" + (++jobs);
        plans.put(jobJson, plan);
        JobRunner runner = new JobRunner(jobId, jobJson, plan, system, live, exchange, runnerSettings(), listener);
        runner.checkpoints(checkpoints);
        synchronized (this) {
            running = runner;
            if (cancelNext) {
                cancelNext = false;
                runner.cancel();
            }
        }
        try {
            return runner.run();
        } finally {
            running = null;
            plans.remove(jobJson);
        }
    }

    /**
     * Asks the job running now, if any, to stop after its current step: its {@link #run} then
     * throws {@link JobCancelledException}. Any thread.
     */
    public void cancelRunning() {
        synchronized (this) {
            JobRunner r = running;
            if (r != null) {
                r.cancel();
            } else {
                // asked before the job's runner exists (a signal while the data load): the
                // next run stops before its first step instead of running to its end
                cancelNext = true;
            }
        }
    }

    public int workers() {
        return workers;
    }

    /** The actor system the workers run in (for a {@link JobRunner} built outside {@link #run}). */
    public ActorSystem<Void> system() {
        return system;
    }

    /** The live workers, as a {@link JobRunner} sees them. */
    public WorkerRegistry.LiveWorkers live() {
        return live;
    }

    /** The in-process tensor plane's exchange. */
    public TensorExchange exchange() {
        return exchange;
    }

    /** Runner settings for this node: generous deadlines, the in-process plane (no host or port). */
    public JobRunner.Settings runnerSettings() {
        return new JobRunner.Settings(Duration.ofMinutes(5), Duration.ofSeconds(60), "in-process", 0);
    }

    @Override
    public void close() {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            // terminated with an error: nothing left to release
        }
    }
}
