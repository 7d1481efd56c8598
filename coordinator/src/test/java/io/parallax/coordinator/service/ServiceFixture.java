package io.parallax.coordinator.service;

import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.parallax.coordinator.JobListener;
import io.parallax.coordinator.JobListeners;
import io.parallax.coordinator.LocalCluster;
import io.parallax.coordinator.plane.TensorPlaneServer;
import io.parallax.engine.backend.Backends;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobEvent;
import io.parallax.proto.v1.JobId;
import io.parallax.proto.v1.JobServiceGrpc;
import io.parallax.proto.v1.JobSpec;
import io.parallax.proto.v1.ModelChunk;
import io.parallax.worker.job.DataRoots;
import io.parallax.worker.job.JobFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The coordinator's job service as it runs in production, in one JVM: a single-node cluster's
 * workers, a state directory, the queue, and the service on a {@link TensorPlaneServer} (with
 * health and reflection) over the in-process transport. {@link #restart()} stops everything but
 * the workers and starts it again on the same state directory, as a new coordinator process
 * would.
 */
final class ServiceFixture implements AutoCloseable {

    static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();
    static final Duration DEADLINE = Duration.ofSeconds(60);
    private static final AtomicInteger SERVERS = new AtomicInteger();

    final LocalCluster cluster;
    final Path stateDir;
    final List<Path> roots;
    final int capacity;
    final boolean netty;
    final Duration checkpointEvery;
    JobStore store;
    JobQueue queue;
    JobServiceImpl service;
    TensorPlaneServer server;
    String serverName;
    private final List<ManagedChannel> channels = new ArrayList<>();
    /** A job held at an epoch's end until the service stops ({@link #holdAtEpoch}); null: none. */
    private volatile Hold hold;

    private record Hold(String jobName, int epoch, java.util.concurrent.atomic.AtomicBoolean released) {}

    /**
     * @param netty serve over TCP on 127.0.0.1 as the coordinator does (handlers on the transport's
     *              threads), instead of the in-process transport
     */
    ServiceFixture(Path stateDir, List<Path> roots, int capacity, boolean netty) throws IOException {
        this(stateDir, roots, capacity, netty, JobQueue.DEFAULT_CHECKPOINT_INTERVAL);
    }

    /** @param checkpointEvery the queue's least time between two checkpoints of a running job */
    ServiceFixture(Path stateDir, List<Path> roots, int capacity, boolean netty, Duration checkpointEvery)
            throws IOException {
        this.cluster = LocalCluster.start(2, Backends.cpu(), roots);
        this.stateDir = stateDir;
        this.roots = roots;
        this.capacity = capacity;
        this.netty = netty;
        this.checkpointEvery = checkpointEvery;
        startService();
    }

    ServiceFixture(Path stateDir, List<Path> roots, int capacity) throws IOException {
        this(stateDir, roots, capacity, false);
    }

    ServiceFixture(Path stateDir) throws IOException {
        this(stateDir, List.of(EXAMPLES), 50);
    }

    private void startService() throws IOException {
        store = JobStore.open(stateDir);
        JobListenerFactory metrics = JobListenerFactory.jsonLines();
        queue = JobQueue.start(store, TrainingCluster.of(cluster), DataRoots.of(roots), capacity,
                (job, dir) -> JobListeners.of(metrics.create(job, dir), holding(job.getSpec().getName())),
                checkpointEvery);
        service = new JobServiceImpl(queue);
        serverName = "job-service-" + SERVERS.incrementAndGet();
        server = new TensorPlaneServer(netty ? TensorPlaneServer.netty(new InetSocketAddress("127.0.0.1", 0))
                : InProcessServerBuilder.forName(serverName).directExecutor(), cluster.exchange(), service).start();
    }

    /**
     * Makes the job named {@code jobName} wait at the end of its epoch {@code epoch} (its watchers
     * told of it) until the next {@link #restart} has begun stopping the queue, or
     * {@link #releaseHold}: that stop, or a cancel sent before the release, then finds it running
     * however slowly the test's own thread goes, where a fast job could otherwise end in between
     * (it did, under load).
     */
    void holdAtEpoch(String jobName, int epoch) {
        hold = new Hold(jobName, epoch, new java.util.concurrent.atomic.AtomicBoolean());
    }

    /** Lets the job {@link #holdAtEpoch} holds go on (it stops at its next step if cancelled meanwhile). */
    void releaseHold() {
        Hold h = hold;
        if (h != null) {
            h.released().set(true);
        }
    }

    private JobListener holding(String jobName) {
        return new JobListener() {
            @Override
            public void onEpoch(EpochReport report) {
                Hold h = hold;
                if (h == null || !h.jobName().equals(jobName) || report.epoch() != h.epoch()) {
                    return;
                }
                JobQueue stopping = queue;
                long giveUp = System.nanoTime() + DEADLINE.toNanos();
                while (!stopping.isShutDown() && !h.released().get() && System.nanoTime() < giveUp) {
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        };
    }

    /** Stops the server, the queue (a running job stops after its step) and the store; starts them again. */
    void restart() throws IOException {
        restart(() -> { });
    }

    /** Stops the service cleanly, runs {@code whileStopped} (to leave on disk what a crash would), starts it again. */
    void restart(IoAction whileStopped) throws IOException {
        stopService();
        whileStopped.run();
        startService();
    }

    interface IoAction {
        void run() throws IOException;
    }

    private void stopService() throws IOException {
        hold = null;
        for (ManagedChannel c : channels) {
            c.shutdownNow();
        }
        channels.clear();
        queue.shutdown(Duration.ofSeconds(30));
        server.shutdown(Duration.ofSeconds(5));
        service.close();
        store.close();
    }

    /** A new client connection (its own channel, as a separate client would have). */
    ManagedChannel channel() {
        ManagedChannel c = netty ? NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build()
                : InProcessChannelBuilder.forName(serverName).build();
        channels.add(c);
        return c;
    }

    JobServiceGrpc.JobServiceBlockingStub stub() {
        return JobServiceGrpc.newBlockingStub(channel());
    }

    static JobServiceGrpc.JobServiceBlockingStub withDeadline(JobServiceGrpc.JobServiceBlockingStub stub) {
        return stub.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Every event of a job's watch, to its end. */
    static List<JobEvent> watchAll(JobServiceGrpc.JobServiceBlockingStub stub, String id) {
        List<JobEvent> events = new ArrayList<>();
        Iterator<JobEvent> it = withDeadline(stub).watchJob(JobId.newBuilder().setId(id).build());
        it.forEachRemaining(events::add);
        return events;
    }

    /** The model's bytes, checking that the chunks are in order and at most 1 MiB. */
    static byte[] model(JobServiceGrpc.JobServiceBlockingStub stub, String id) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Iterator<ModelChunk> it = withDeadline(stub).getModel(JobId.newBuilder().setId(id).build());
        long total = -1;
        while (it.hasNext()) {
            ModelChunk c = it.next();
            if (c.getOffset() != bytes.size() || c.getData().size() > ModelStreamer.CHUNK
                    || (total >= 0 && c.getTotalSize() != total)) {
                throw new AssertionError("bad chunk at " + c.getOffset() + " of " + c.getTotalSize() + " ("
                        + c.getData().size() + " bytes) after " + bytes.size());
            }
            total = c.getTotalSize();
            bytes.writeBytes(c.getData().toByteArray());
        }
        if (bytes.size() != total) {
            throw new AssertionError("got " + bytes.size() + " bytes of " + total);
        }
        return bytes.toByteArray();
    }

    /** The job's finished record, after watching it to its end. */
    static Job finished(JobServiceGrpc.JobServiceBlockingStub stub, String id) {
        List<JobEvent> events = watchAll(stub, id);
        return events.get(events.size() - 1).getFinished();
    }

    /** Blocks until {@code id} has reported {@code epochs} epochs; fails if it ends first. */
    static void awaitEpochs(JobServiceGrpc.JobServiceBlockingStub stub, String id, int epochs) {
        Iterator<JobEvent> it = withDeadline(stub).watchJob(JobId.newBuilder().setId(id).build());
        while (it.hasNext()) {
            JobEvent e = it.next();
            if (e.hasEpoch() && e.getEpoch().getEpoch() >= epochs) {
                return;
            }
            if (e.hasFinished()) {
                throw new AssertionError("the job ended before epoch " + epochs + ": " + e);
            }
        }
        throw new AssertionError("the watch ended before epoch " + epochs);
    }

    static Job get(JobServiceGrpc.JobServiceBlockingStub stub, String id) {
        return withDeadline(stub).getJob(JobId.newBuilder().setId(id).build());
    }

    static String submit(JobServiceGrpc.JobServiceBlockingStub stub, JobSpec spec) {
        return withDeadline(stub).submitJob(spec).getId();
    }

    /**
     * A small job on the breast-cancer table (455 training rows after the 20% validation split),
     * its path relative, so resolved against the data roots.
     */
    static JobSpec smallJob(String name, int epochs, int batch) {
        return csvJob(name, "data/breast_cancer.csv", epochs, batch);
    }

    /** {@link #smallJob} on the CSV at {@code path}. */
    static JobSpec csvJob(String name, String path, int epochs, int batch) {
        return JobFiles.parse("""
                {
                  "name": "%s",
                  "model": {"layers": [{"linear": {"out_features": 16}}, {"activation": {"type": "relu"}},
                                       {"linear": {"out_features": 2}}]},
                  "loss": "cross_entropy",
                  "optimizer": {"name": "adam", "lr": 0.01},
                  "data": {"train": {"csv": {"path": "%s", "label_column": "target"}},
                           "validation_split": 0.2, "normalization": "standardize"},
                  "batch_size": %d, "epochs": %d, "seed": 5
                }""".formatted(name, path.replace("\\", "/"), batch, epochs));
    }

    /** A job that runs for minutes unless stopped: batches of 1, many epochs. */
    static JobSpec longJob(String name) {
        return smallJob(name, 1000, 1);
    }

    @Override
    public void close() throws IOException {
        try {
            stopService();
        } finally {
            cluster.close();
        }
    }
}
