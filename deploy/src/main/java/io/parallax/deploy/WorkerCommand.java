package io.parallax.deploy;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.javadsl.Behaviors;
import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.worker.WorkerActor;
import io.parallax.worker.WorkerEnvironment;
import io.parallax.worker.plane.GrpcTensorPlane;
import io.parallax.worker.plane.TensorPlane;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trainer worker}: joins the cluster whose coordinator (seed) is at {@code --join} and
 * offers one worker actor to its jobs, until stopped.
 */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = "Join a coordinator's cluster and compute gradients for its jobs.")
public final class WorkerCommand implements Callable<Integer> {

    @Option(names = "--join", required = true, paramLabel = "HOST:PORT", description = "the coordinator's cluster address")
    String join;

    @Option(names = "--host", description = "address to bind and advertise (default: ${DEFAULT-VALUE})")
    String host = "127.0.0.1";

    @Option(names = "--port", description = "Akka port, 0 = any free one (default: ${DEFAULT-VALUE})")
    int port = 0;

    @Option(names = "--data-root", paramLabel = "DIR", description = "folders job data may come from "
            + "(default: the repository and /usr/share/datasets)")
    List<Path> dataRoots = new ArrayList<>();

    @Option(names = "--plane-deadline", description = "seconds per tensor-plane call (default: ${DEFAULT-VALUE})")
    int planeDeadlineSeconds = 30;

    @Override
    public Integer call() throws Exception {
        int colon = join.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("--join must be HOST:PORT, got '" + join + "'");
        }
        String joinHost = join.substring(0, colon);
        int joinPort = Integer.parseInt(join.substring(colon + 1));
        List<Path> roots = DeployDefaults.dataRoots(dataRoots, null);
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
                return GrpcTensorPlane.connect(planeHost, planePort, Duration.ofSeconds(planeDeadlineSeconds),
                        GrpcTensorPlane.DEFAULT_CHUNK_BYTES);
            }
        };
        ActorSystem<Void> system = ActorSystem.create(Behaviors.<Void>setup(ctx -> {
            // the id names this node (host:port), so the gradient sum order is the same in every run
            akka.actor.Address self = ctx.getSystem().address();
            String id = self.getHost().orElse(host) + ":" + self.getPort().orElse(port) + "/w0";
            ctx.spawn(WorkerActor.create(id, env), "worker", DispatcherSelector.fromConfig("parallax.compute-dispatcher"));
            System.out.println("worker " + id + " joining " + NodeConfig.address(joinHost, joinPort));
            return Behaviors.empty();
        }), NodeConfig.SYSTEM_NAME, NodeConfig.worker(host, port, joinHost, joinPort, 1));
        system.getWhenTerminated().toCompletableFuture().get();
        return 0;
    }
}
