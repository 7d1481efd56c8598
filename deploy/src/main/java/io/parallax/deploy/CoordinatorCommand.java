package io.parallax.deploy;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import io.parallax.coordinator.JobListeners;
import io.parallax.coordinator.JobRunner;
import io.parallax.coordinator.WorkerRegistry;
import io.parallax.coordinator.metrics.MetricsSinks;
import io.parallax.coordinator.plane.TensorPlaneServer;
import io.parallax.coordinator.service.JobListenerFactory;
import io.parallax.coordinator.service.JobQueue;
import io.parallax.coordinator.service.JobServiceImpl;
import io.parallax.coordinator.service.JobStore;
import io.parallax.coordinator.service.QueueFullException;
import io.parallax.coordinator.service.TrainingCluster;
import io.parallax.deploy.client.ExitCodes;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobSpec;
import io.parallax.proto.v1.JobState;
import io.parallax.worker.job.DataRoots;
import io.parallax.worker.job.InvalidJobException;
import io.parallax.worker.job.JobFiles;
import io.parallax.worker.job.JobValidator;
import io.parallax.worker.plane.TensorExchange;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code trainer coordinator}: the cluster's seed node. One gRPC port serves the tensor plane,
 * the job API ({@code parallax.v1.JobService}), health checking and reflection; jobs run one at a
 * time from a bounded queue on the workers that join, and their records, metrics and models are
 * kept under {@code --state-dir}.
 *
 * <p>Without {@code --job} it serves until SIGTERM, then shuts down gracefully: the running job
 * stops after its current step, calls in flight get a grace period. With {@code --job} it
 * submits those files to its own queue, waits for them and exits: 0 if every job succeeded, 1
 * otherwise (a job that fails — bad data, no workers — is reported and the next one still runs).
 */
@Command(name = "coordinator", mixinStandardHelpOptions = true,
        description = "Start the coordinator (cluster seed, tensor plane, job service) and run jobs on the workers "
                + "that join.")
public final class CoordinatorCommand implements Callable<Integer> {

    /**
     * gRPC's server logs every connection that fails before HTTP/2 starts at INFO, with a stack
     * trace: a worker given the gRPC port as its --join address retries every few seconds and
     * filled the coordinator's log with them (the worker's own log says what to check). Failures
     * that matter to a call reach the job as that call's status. Held here: JUL keeps loggers
     * only weakly.
     */
    private static final java.util.logging.Logger GRPC_TRANSPORT_LOG =
            java.util.logging.Logger.getLogger("io.grpc.netty.shaded.io.grpc.netty.NettyServerTransport");

    @Option(names = "--config", paramLabel = "FILE", description = "settings file (HOCON, see deploy/parallax.conf); "
            + "flags override it, PARALLAX_* environment variables override the file")
    Path config;

    @Option(names = "--discovery", description = "how the cluster forms: seed (this node is the seed) or "
            + "kubernetes (Akka Management cluster bootstrap) (default: parallax.discovery.method, seed)")
    String discovery;

    @Option(names = "--host", description = "address to bind and advertise (default: parallax.host, 127.0.0.1)")
    String host;

    @Option(names = "--port", description = "Akka cluster port (default: parallax.coordinator.port, 2551)")
    Integer port;

    @Option(names = "--grpc-port", description = "gRPC port of the tensor plane and the job service, ≥ 1 "
            + "(default: parallax.coordinator.grpc-port, 50051)")
    Integer grpcPort;

    @Option(names = "--grpc-bind", paramLabel = "ADDR", description = "address the gRPC server listens on, when "
            + "it is not --host (which workers are told): 0.0.0.0 in a Kubernetes pod, for kubectl port-forward "
            + "(default: parallax.coordinator.grpc-bind, else --host)")
    String grpcBind;

    @Option(names = "--job", paramLabel = "FILE", description = "a job to run, then exit (repeatable; run in order)")
    List<Path> jobs = new ArrayList<>();

    @Option(names = "--workers", description = "with --job: workers each job waits for (default: the job's "
            + "'workers', else 1)")
    Integer workers;

    @Option(names = "--worker-wait", description = "seconds to wait for workers (default: "
            + "parallax.coordinator.worker-wait, 120)")
    Integer workerWaitSeconds;

    @Option(names = "--step-timeout", description = "seconds before a step is redone without late workers "
            + "(default: parallax.coordinator.step-timeout, 60)")
    Integer stepTimeoutSeconds;

    @Option(names = "--metrics-out", paramLabel = "FILE", description = "with --job: a copy of the last job's "
            + "metrics (JSON lines per epoch)")
    Path metricsOut;

    @Option(names = "--export", paramLabel = "FILE", description = "with --job: a copy of the last job's model "
            + "(safetensors)")
    Path export;

    @Option(names = "--data-root", paramLabel = "DIR", description = "folders job data may come from (default: "
            + "parallax.data-roots, else the --job files' folders, the repository and /usr/share/datasets)")
    List<Path> dataRoots = new ArrayList<>();

    @Option(names = "--state-dir", paramLabel = "DIR", description = "job records, metrics and models "
            + "(default: parallax.coordinator.state-dir, runs/coordinator)")
    Path stateDir;

    @Option(names = "--queue-size", description = "jobs that may wait in the queue (default: "
            + "parallax.coordinator.queue-size, 100)")
    Integer queueSize;

    @Option(names = "--checkpoint-every", paramLabel = "SECONDS", description = "least time between two "
            + "checkpoints of the running job, taken after the step or epoch at which it has passed (and where a "
            + "stop, a cancel or the loss of every worker ends the run), from which it resumes when the coordinator "
            + "is started again after a crash or stop, or on 'trainer resume'; 0: after every epoch, never inside "
            + "one (default: parallax.coordinator.checkpoint-every, 60)")
    Long checkpointEverySeconds;

    @Spec
    CommandSpec command;

    @Override
    public Integer call() throws Exception {
        GRPC_TRANSPORT_LOG.setLevel(java.util.logging.Level.WARNING);
        NodeSettings settings = NodeSettings.load(config).with("discovery.method", discovery);
        String host = NodeSettings.or(this.host, settings.host());
        int port = NodeSettings.or(this.port, settings.coordinatorPort());
        int grpcPort = NodeSettings.or(this.grpcPort, settings.grpcPort());
        Duration stepTimeout = stepTimeoutSeconds != null ? Duration.ofSeconds(stepTimeoutSeconds) : settings.stepTimeout();
        Duration workerWait = workerWaitSeconds != null ? Duration.ofSeconds(workerWaitSeconds) : settings.workerWait();
        Path stateDir = NodeSettings.or(this.stateDir, settings.stateDir());
        List<Path> configuredRoots = this.dataRoots.isEmpty() ? settings.dataRoots() : this.dataRoots;
        NodeConfig.requirePort(port, "--port", false);
        NodeConfig.requirePort(grpcPort, "--grpc-port", false);
        // the settings check their own values, naming the key
        if (stepTimeoutSeconds != null) {
            NodeConfig.requirePositive(stepTimeout, "--step-timeout");
        }
        if (workerWaitSeconds != null) {
            NodeConfig.requirePositive(workerWait, "--worker-wait");
        }
        if (workers != null && (workers < 1 || workers > JobValidator.MAX_WORKERS)) {
            throw new IllegalArgumentException("--workers must be between 1 and " + JobValidator.MAX_WORKERS + ", got "
                    + workers);
        }
        if (queueSize != null && queueSize < 1) {
            throw new IllegalArgumentException("--queue-size must be ≥ 1, got " + queueSize);
        }
        if (checkpointEverySeconds != null && checkpointEverySeconds < 0) {
            throw new IllegalArgumentException("--checkpoint-every must be ≥ 0, got " + checkpointEverySeconds);
        }
        int queueSize = NodeSettings.or(this.queueSize, settings.queueSize());
        Duration checkpointEvery = checkpointEverySeconds != null ? Duration.ofSeconds(checkpointEverySeconds)
                : settings.checkpointEvery();
        if (!jobs.isEmpty()) {
            OutputFiles.requireWritable(export, "--export");
            OutputFiles.requireWritable(metricsOut, "--metrics-out");
            OutputFiles.requireDifferent(export, "--export", metricsOut, "--metrics-out");
            for (Path job : jobs) {
                OutputFiles.requireDifferent(export, "--export", job, "the job file " + job);
                OutputFiles.requireDifferent(metricsOut, "--metrics-out", job, "the job file " + job);
            }
        }
        NodeConfig.requireFreePort(host, port, "cluster port (--port)");
        String grpcBind = NodeSettings.or(this.grpcBind, settings.grpcBind().orElse(host));
        NodeConfig.requireFreePort(grpcBind, grpcPort, "gRPC port (--grpc-port)");
        TensorExchange exchange = new TensorExchange();
        WorkerRegistry.LiveWorkers live = new WorkerRegistry.LiveWorkers();
        JobStore store = JobStore.open(stateDir);
        ActorSystem<Void> system = null;
        JobQueue queue = null;
        JobServiceImpl service = null;
        TensorPlaneServer server = null;
        CompletableFuture<Void> stopped = new CompletableFuture<>();
        AtomicReference<String> nodeLost = new AtomicReference<>();
        CountDownLatch cleanedUp = new CountDownLatch(1);
        // SIGTERM: the JVM halts once the hooks return, so this one waits for the cleanup below
        Thread hook = new Thread(() -> {
            stopped.complete(null);
            try {
                cleanedUp.await(Math.max(30, stepTimeout.toSeconds() + 15L), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "coordinator-shutdown");
        if (!SupervisorWatch.stopWhenGone("coordinator")) {
            return SupervisorWatch.STOPPED;
        }
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            system = NodeConfig.createSystem(Behaviors.setup(ctx -> {
                ctx.spawn(WorkerRegistry.create(live), "workers");
                return Behaviors.<Void>empty();
            }), NodeConfig.coordinator(settings, host, port), host, port);
            NodeConfig.startDiscovery(system, settings);
            watchNode(system, nodeLost, stopped);
            TrainingCluster cluster = new TrainingCluster(system, live, exchange, new JobRunner.Settings(
                    stepTimeout, workerWait, host, grpcPort));
            DataRoots roots = DataRoots.of(roots(configuredRoots));
            // a job service holds its queue while no worker is live; 'coordinator --job' runs its
            // files and exits, so a job without workers fails after --worker-wait instead
            queue = JobQueue.start(store, cluster, roots, queueSize, listeners(), checkpointEvery, jobs.isEmpty());
            service = new JobServiceImpl(queue);
            server = new TensorPlaneServer(TensorPlaneServer.netty(new InetSocketAddress(grpcBind, grpcPort)),
                    exchange, service).start();
            System.out.printf("coordinator up: cluster %s, gRPC %s:%d (tensor plane, job service%s), state %s, "
                    + "data roots %s%n", NodeConfig.address(host, port), host, server.port(),
                    grpcBind.equals(host) ? "" : "; listening on " + grpcBind, store.root(), roots);
            int code;
            if (jobs.isEmpty()) {
                stopped.join();
                code = 0;
            } else {
                code = runJobFiles(queue, stopped);
            }
            if (nodeLost.get() != null) {
                command.commandLine().getErr().println("trainer: coordinator: " + nodeLost.get()
                        + "; it cannot reach workers any more, so it stops: start it again (the same --state-dir "
                        + "keeps the queued jobs, and the running one resumes from its last checkpoint, if it has one)");
                return ExitCodes.NODE_LOST;
            }
            if (jobs.isEmpty()) {
                System.out.println("coordinator stopping");
            }
            return code;
        } finally {
            if (queue != null) {
                queue.shutdown(stepTimeout.plusSeconds(5));
            }
            if (server != null) {
                server.shutdown(TensorPlaneServer.DEFAULT_GRACE);
            }
            if (service != null) {
                service.close();
            }
            store.close();
            if (system != null) {
                system.terminate();
                system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
            cleanedUp.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it returns now that the cleanup is done
            }
        }
    }

    /**
     * Ends the coordinator when its cluster node stops under it: the split-brain resolver downed
     * it (a pause long enough for the workers' side to decide without it, or a worker's old self
     * that quarantined it), or someone made it leave. A coordinator without its node would keep
     * taking jobs that wait for workers it can no longer see, and fail them one by one; stopped,
     * it keeps them queued on disk for its next start (by hand, or by whatever supervises it).
     * A stop asked of the JVM (SIGTERM) is not a loss: that path ends through {@code stopped}.
     */
    private static void watchNode(ActorSystem<?> system, AtomicReference<String> nodeLost,
                                  CompletableFuture<Void> stopped) {
        system.getWhenTerminated().thenRun(() -> {
            CoordinatedShutdown.Reason reason = CoordinatedShutdown.get(system).getShutdownReason().orElse(null);
            if (reason == CoordinatedShutdown.jvmExitReason() || stopped.isDone()) {
                return;
            }
            nodeLost.set(reason == CoordinatedShutdown.clusterDowningReason()
                    ? "its cluster node was downed (removed from the cluster by the split-brain resolver or by hand)"
                    : reason == CoordinatedShutdown.clusterLeavingReason() ? "its cluster node was made to leave the cluster"
                    : "its cluster node stopped (" + reason + ")");
            stopped.complete(null);
        });
    }

    /** The given roots, or the defaults plus every job file's folder. */
    private List<Path> roots(List<Path> dataRoots) {
        if (!dataRoots.isEmpty() || jobs.isEmpty()) {
            return DeployDefaults.dataRoots(dataRoots, null);
        }
        Set<Path> all = new LinkedHashSet<>();
        for (Path job : jobs) {
            all.addAll(DeployDefaults.dataRoots(List.of(), job));
        }
        return List.copyOf(all);
    }

    /**
     * Each job's metrics in its folder — metrics.jsonl, TensorBoard event files, and the
     * loss/accuracy chart written when it ends — and its epochs printed to the terminal.
     */
    private static JobListenerFactory listeners() {
        return (job, dir) -> JobListeners.of(MetricsSinks.forJob(dir, job.getName().isEmpty() ? job.getId()
                : job.getId() + " (" + job.getName() + ")", JobListenerFactory.earlierEpochs(job)),
                EpochPrinter.forNodeLog(job.getId()));
    }

    /** Submits the --job files in order, waits for each, copies the last one's metrics and model. */
    private int runJobFiles(JobQueue queue, CompletableFuture<Void> stopped) throws Exception {
        List<String> ids = new ArrayList<>();
        int failures = 0;
        for (Path file : jobs) {
            try {
                JobSpec spec = JobFiles.read(file);
                if (workers != null) {
                    spec = spec.toBuilder().setWorkers(workers).build();
                }
                Job job = queue.submit(spec);
                System.out.printf("job %s (%s): queued; it waits for %d worker(s)%n", job.getId(), file,
                        Math.max(1, spec.getWorkers()));
                ids.add(job.getId());
            } catch (InvalidJobException | QueueFullException | IOException e) {
                failures++;
                ids.add(null);
                System.out.println("job " + file + " failed: " + (e instanceof java.nio.file.FileSystemException fse
                        ? FileErrors.describe(fse) : e.getMessage()));
            }
        }
        Job last = null;
        for (int i = 0; i < ids.size(); i++) {
            if (ids.get(i) == null) {
                continue;
            }
            CompletableFuture<Job> finished = queue.whenFinished(ids.get(i));
            CompletableFuture.anyOf(finished, stopped).join();
            if (!finished.isDone()) {
                System.out.println("stopped before job " + ids.get(i) + " finished");
                return TrainerCli.JOB_FAILED;
            }
            Job job = finished.join();
            if (job.getState() == JobState.SUCCEEDED) {
                System.out.printf("job %s (%s): SUCCEEDED%n", job.getId(), jobs.get(i));
            } else {
                failures++;
                System.out.printf("job %s failed (%s, %s): %s%n", jobs.get(i), job.getId(), job.getState(),
                        job.getReason());
            }
            if (i == ids.size() - 1) {
                last = job;
            }
        }
        if (last != null) {
            Path dir = queue.modelFile(last.getId()).getParent();
            copy(dir.resolve(MetricsSinks.METRICS_FILE), metricsOut, "metrics");
            if (last.getModelAvailable()) {
                copy(queue.modelFile(last.getId()), export, "model");
            }
        }
        return failures == 0 ? 0 : TrainerCli.JOB_FAILED;
    }

    private static void copy(Path from, Path to, String what) throws IOException {
        if (to == null || !Files.exists(from)) {
            return;
        }
        if (to.toAbsolutePath().getParent() != null) {
            Files.createDirectories(to.toAbsolutePath().getParent());
        }
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
        System.out.println(what + " written to " + to);
    }
}
