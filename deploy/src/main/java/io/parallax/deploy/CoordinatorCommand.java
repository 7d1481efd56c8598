package io.parallax.deploy;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import io.parallax.coordinator.JobFailedException;
import io.parallax.coordinator.JobRunner;
import io.parallax.coordinator.WorkerRegistry;
import io.parallax.coordinator.plane.TensorPlaneServer;
import io.parallax.engine.io.ModelFile;
import io.parallax.proto.v1.JobSpec;
import io.parallax.worker.job.DataRoots;
import io.parallax.worker.job.InvalidJobException;
import io.parallax.worker.job.JobFiles;
import io.parallax.worker.job.JobPlan;
import io.parallax.worker.plane.TensorExchange;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trainer coordinator}: the cluster's seed node. Hosts the tensor plane (gRPC) and runs
 * jobs on the workers that join it. With {@code --job} it runs those jobs in order — a job that
 * fails (bad data, no workers) is reported and the next one still runs — and exits; without, it
 * serves until stopped.
 */
@Command(name = "coordinator", mixinStandardHelpOptions = true,
        description = "Start the coordinator (cluster seed, tensor plane) and run jobs on the workers that join.")
public final class CoordinatorCommand implements Callable<Integer> {

    @Option(names = "--host", description = "address to bind and advertise (default: ${DEFAULT-VALUE})")
    String host = "127.0.0.1";

    @Option(names = "--port", description = "Akka cluster port (default: ${DEFAULT-VALUE})")
    int port = 2551;

    @Option(names = "--grpc-port", description = "tensor-plane gRPC port (default: ${DEFAULT-VALUE})")
    int grpcPort = 50051;

    @Option(names = "--job", paramLabel = "FILE", description = "a job to run (repeatable; run in order)")
    List<Path> jobs = new ArrayList<>();

    @Option(names = "--workers", description = "workers each job waits for (default: the job's 'workers', else 1)")
    Integer workers;

    @Option(names = "--worker-wait", description = "seconds to wait for workers (default: ${DEFAULT-VALUE})")
    int workerWaitSeconds = 120;

    @Option(names = "--step-timeout", description = "seconds before a step is redone without late workers (default: ${DEFAULT-VALUE})")
    int stepTimeoutSeconds = 60;

    @Option(names = "--metrics-out", paramLabel = "FILE", description = "JSON lines per epoch (with several jobs: the last one's)")
    Path metricsOut;

    @Option(names = "--export", paramLabel = "FILE", description = "write the (last) job's model here (safetensors)")
    Path export;

    @Option(names = "--data-root", paramLabel = "DIR", description = "folders job data may come from")
    List<Path> dataRoots = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        TensorExchange exchange = new TensorExchange();
        WorkerRegistry.LiveWorkers live = new WorkerRegistry.LiveWorkers();
        TensorPlaneServer server = new TensorPlaneServer(
                TensorPlaneServer.netty(new InetSocketAddress(host, grpcPort)), exchange).start();
        ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(ctx -> {
            ctx.spawn(WorkerRegistry.create(live), "workers");
            return Behaviors.<Void>empty();
        }), NodeConfig.SYSTEM_NAME, NodeConfig.coordinator(host, port));
        System.out.printf("coordinator up: cluster %s, tensor plane %s:%d%n", NodeConfig.address(host, port), host,
                server.port());
        int failures = 0;
        try {
            if (jobs.isEmpty()) {
                CountDownLatch stopped = new CountDownLatch(1);
                Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown));
                stopped.await();
                return 0;
            }
            for (int i = 0; i < jobs.size(); i++) {
                Path jobFile = jobs.get(i);
                boolean last = i == jobs.size() - 1;
                try {
                    runJob("job-" + (i + 1), jobFile, system, live, exchange, server.port(), last);
                } catch (JobFailedException | InvalidJobException | IOException | IllegalArgumentException e) {
                    failures++;
                    System.out.println("job " + jobFile + " failed: " + e.getMessage());
                }
            }
            return failures == 0 ? 0 : TrainerCli.JOB_FAILED;
        } finally {
            system.terminate();
            server.shutdown(TensorPlaneServer.DEFAULT_GRACE);
            system.getWhenTerminated().toCompletableFuture().get();
        }
    }

    private void runJob(String jobId, Path jobFile, ActorSystem<Void> system, WorkerRegistry.LiveWorkers live,
                        TensorExchange exchange, int planePort, boolean last)
            throws IOException, JobFailedException, InterruptedException {
        JobSpec spec = JobFiles.read(jobFile);
        List<Path> roots = DeployDefaults.dataRoots(dataRoots, jobFile);
        if (workers != null) {
            spec = spec.toBuilder().setWorkers(workers).build();
        }
        JobPlan plan = JobPlan.load(spec, DataRoots.of(roots));
        System.out.printf("job %s (%s): waiting for %d worker(s)%n", jobId, jobFile, Math.max(1, plan.workers()));
        try (EpochPrinter printer = new EpochPrinter(last ? metricsOut : null)) {
            JobRunner runner = new JobRunner(jobId, JobFiles.toJson(spec), plan, system, live, exchange,
                    new JobRunner.Settings(Duration.ofSeconds(stepTimeoutSeconds), Duration.ofSeconds(workerWaitSeconds),
                            host, planePort), printer);
            JobRunner.Result result = runner.run();
            if (last && export != null) {
                if (export.toAbsolutePath().getParent() != null) {
                    Files.createDirectories(export.toAbsolutePath().getParent());
                }
                ModelFile.save(result.model(), export);
                System.out.println("model written to " + export);
            }
        }
    }
}
