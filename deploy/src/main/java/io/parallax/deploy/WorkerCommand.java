package io.parallax.deploy;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.javadsl.Behaviors;
import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.worker.WorkerActor;
import io.parallax.worker.WorkerEnvironment;
import io.parallax.worker.plane.FloatChunks;
import io.parallax.worker.plane.GrpcTensorPlane;
import io.parallax.worker.plane.TensorPlane;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trainer worker}: joins the cluster whose coordinator (seed) is at {@code --join} (or
 * that Kubernetes bootstrap finds) and offers one worker actor to its jobs, until stopped.
 * Every option falls back to the configuration ({@code --config}, environment, defaults: see
 * {@code deploy/parallax.conf} and {@link NodeSettings}).
 */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = "Join a coordinator's cluster and compute gradients for its jobs.")
public final class WorkerCommand implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "FILE", description = "settings file (HOCON, see deploy/parallax.conf); "
            + "flags override it, PARALLAX_* environment variables too")
    Path config;

    @Option(names = "--join", paramLabel = "HOST:PORT", description = "the coordinator's cluster address "
            + "(default: parallax.worker.join, 127.0.0.1:2551)")
    String join;

    @Option(names = "--host", description = "address to bind and advertise (default: parallax.host, 127.0.0.1)")
    String host;

    @Option(names = "--port", description = "Akka port, 0 = any free one (default: parallax.worker.port, 0)")
    Integer port;

    @Option(names = "--data-root", paramLabel = "DIR", description = "folders job data may come from "
            + "(default: parallax.data-roots, else the repository and /usr/share/datasets)")
    List<Path> dataRoots = new ArrayList<>();

    @Option(names = "--plane-deadline", description = "seconds per tensor-plane call (default: parallax.worker.plane-deadline, 30)")
    Integer planeDeadlineSeconds;

    @Option(names = "--threads", description = "compute threads (default: parallax.worker.compute-threads, 1)")
    Integer computeThreads;

    @Option(names = "--discovery", description = "how to find the cluster: seed or kubernetes "
            + "(default: parallax.discovery.method, seed)")
    String discovery;

    @Override
    public Integer call() throws Exception {
        NodeSettings settings = NodeSettings.load(config).with("discovery.method", discovery);
        String host = NodeSettings.or(this.host, settings.host());
        int port = NodeSettings.or(this.port, settings.workerPort());
        String join = NodeSettings.or(this.join, settings.join());
        Duration planeDeadline = planeDeadlineSeconds != null ? Duration.ofSeconds(planeDeadlineSeconds)
                : settings.planeDeadline();
        int threads = NodeSettings.or(computeThreads, settings.computeThreads());
        if (threads < 1) {
            throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
        }
        NodeConfig.requirePort(port, "--port", true);
        if (planeDeadlineSeconds != null) { // the setting checks its own value, naming the key
            NodeConfig.requirePositive(planeDeadline, "--plane-deadline");
        }
        NodeConfig.requireFreePort(host, port, "cluster port (--port)");
        List<Path> dataRoots = this.dataRoots.isEmpty() ? settings.dataRoots() : this.dataRoots;
        List<Path> roots = DeployDefaults.dataRoots(dataRoots, null);
        for (Path root : dataRoots) {
            // not refused: a mount may come up after the worker; but said now, not when a job fails on it
            Path absolute = root.toAbsolutePath().normalize();
            if (!Files.isDirectory(absolute)) {
                System.out.println("worker: note: the data root " + absolute + (Files.exists(absolute)
                        ? " is not a folder" : " does not exist (yet)") + "; jobs reading from it fail on this "
                        + "worker until it is a folder");
            }
        }
        Backend backend = Backends.cpu();
        WorkerEnvironment env = new WorkerEnvironment() {
            @Override
            public Backend backend() {
                return backend;
            }

            @Override
            public List<Path> dataRoots() {
                return roots;
            }

            @Override
            public TensorPlane connect(String planeHost, int planePort) {
                return GrpcTensorPlane.connect(planeHost, planePort, planeDeadline,
                        FloatChunks.DEFAULT_CHUNK_BYTES);
            }
        };
        String target = settings.discovery() == NodeSettings.Discovery.KUBERNETES
                ? "the cluster Kubernetes bootstrap finds" : "akka://" + NodeConfig.SYSTEM_NAME + "@" + join;
        com.typesafe.config.Config nodeConfig = NodeConfig.worker(settings, host, port, join, threads);
        // a stop asked of the JVM (SIGTERM, Ctrl-C) ends the loop below; anything else that ends
        // the node (the coordinator left, or this node was downed) starts a fresh one that joins again
        AtomicBoolean stopping = new AtomicBoolean();
        if (!SupervisorWatch.stopWhenGone("worker")) {
            return SupervisorWatch.STOPPED;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stopping.set(true), "worker-stopping"));
        while (true) {
            ActorSystem<Void> system = NodeConfig.createSystem(Behaviors.<Void>setup(ctx -> {
                // the id names this node (host:port), so the gradient sum order is the same in every run
                akka.actor.Address self = ctx.getSystem().address();
                String id = self.getHost().orElse(host) + ":" + self.getPort().orElse(port) + "/w0";
                ctx.spawn(WorkerActor.create(id, env), "worker",
                        DispatcherSelector.fromConfig("parallax.compute-dispatcher"));
                ctx.spawn(CoordinatorWatch.create(), "coordinator-watch");
                System.out.println("worker " + id + " joining " + target);
                return Behaviors.empty();
            }), nodeConfig, host, port);
            NodeConfig.startDiscovery(system, settings);
            // Akka retries the join for ever, saying so only in its own warnings: say it plainly
            String waitingFor = target;
            akka.actor.Cancellable notJoined = system.scheduler().scheduleAtFixedRate(NOT_JOINED_FIRST,
                    NOT_JOINED_AGAIN, () -> {
                        if (akka.cluster.Cluster.get(system.classicSystem()).selfMember().status()
                                != akka.cluster.MemberStatus.up()) {
                            System.out.println("worker: not in the cluster yet, no answer from " + waitingFor
                                    + "; still trying (is the coordinator running, reachable at that address, and is "
                                    + "that its cluster port (--port, 2551 by default) rather than its gRPC port?)");
                        }
                    }, system.executionContext());
            akka.cluster.Cluster.get(system.classicSystem()).registerOnMemberUp(notJoined::cancel);
            system.getWhenTerminated().toCompletableFuture().get();
            notJoined.cancel();
            CoordinatedShutdown.Reason reason = CoordinatedShutdown.get(system).getShutdownReason().orElse(null);
            if (reason == CoordinatedShutdown.incompatibleConfigurationDetectedReason() && !stopping.get()) {
                // joining again would be refused again: an error for the operator, not a restart
                throw new IllegalStateException("the cluster at " + target + " refused this worker: its coordinator "
                        + "runs another version of Parallax than this worker's " + ParallaxVersion.get()
                        + " (the coordinator's log names both); run the same version on every node");
            }
            String why = reason == CoordinatorWatch.COORDINATOR_LEFT ? "the coordinator left"
                    : reason == CoordinatedShutdown.clusterDowningReason()
                            ? "this node was removed from the cluster (the coordinator is unreachable, or it downed "
                                    + "this node)"
                            : null;
            if (why == null || stopping.get()) {
                return 0;
            }
            System.out.println("worker: " + why + "; joining " + target + " again");
            // the old node's port is released as it terminates; give the next one a moment, and
            // a fixed port up to half a minute to be free again
            for (int waited = 0; ; waited++) {
                Thread.sleep(REJOIN_PAUSE_MILLIS);
                if (stopping.get()) {
                    return 0;
                }
                try {
                    NodeConfig.requireFreePort(host, port, "cluster port (--port)");
                    break;
                } catch (IllegalStateException e) {
                    if (waited >= 30) {
                        throw e;
                    }
                }
            }
        }
    }

    /** When a worker not yet in the cluster first says so, and how often again. */
    private static final Duration NOT_JOINED_FIRST = Duration.ofSeconds(20);
    private static final Duration NOT_JOINED_AGAIN = Duration.ofSeconds(60);
    /** Between a node's end and the next one's start: no busy loop while the coordinator is away. */
    private static final long REJOIN_PAUSE_MILLIS = 1000;
}