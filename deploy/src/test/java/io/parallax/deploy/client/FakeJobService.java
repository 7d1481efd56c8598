package io.parallax.deploy.client;

import com.google.protobuf.ByteString;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.parallax.proto.v1.EpochMetrics;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobEvent;
import io.parallax.proto.v1.JobId;
import io.parallax.proto.v1.JobServiceGrpc;
import io.parallax.proto.v1.JobSpec;
import io.parallax.proto.v1.JobState;
import io.parallax.proto.v1.ListJobsRequest;
import io.parallax.proto.v1.ListJobsResponse;
import io.parallax.proto.v1.ModelChunk;
import io.parallax.proto.v1.StateChange;
import io.parallax.proto.v1.StepProgress;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A scripted {@code JobService} on a real Netty server at 127.0.0.1 and an ephemeral port: it
 * answers with what a test put in it and records what the client sent.
 */
final class FakeJobService extends JobServiceGrpc.JobServiceImplBase implements AutoCloseable {

    final List<JobSpec> submitted = new CopyOnWriteArrayList<>();
    final Map<String, Job> jobs = new ConcurrentHashMap<>();
    final Map<String, List<JobEvent>> watches = new ConcurrentHashMap<>();
    final Map<String, byte[]> models = new ConcurrentHashMap<>();
    volatile Status submitFailure;
    volatile Status cancelFailure;
    volatile String nextId = "job-000001";
    volatile List<Job> listed = List.of();
    volatile ListJobsRequest lastList;
    /** When set, GetModel announces this total instead of the model's real size. */
    volatile long announcedModelSize = -1;
    /** When set, GetJob waits on it (a coordinator that does not answer). */
    volatile CountDownLatch getJobGate;
    /** Job id → events its first watch sends before it breaks off UNAVAILABLE; later watches get them all. */
    final Map<String, Integer> breakFirstWatchAfter = new java.util.concurrent.ConcurrentHashMap<>();

    private final Server server;

    FakeJobService() throws IOException {
        this(0);
    }

    /** Listening on {@code port} of 127.0.0.1 (0: any free one). */
    FakeJobService(int port) throws IOException {
        server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
                .addService(this).build().start();
    }

    /** {@code 127.0.0.1:PORT}, for {@code --server}. */
    String address() {
        return "127.0.0.1:" + server.getPort();
    }

    @Override
    public void submitJob(JobSpec request, StreamObserver<JobId> out) {
        if (submitFailure != null) {
            out.onError(submitFailure.asRuntimeException());
            return;
        }
        submitted.add(request);
        out.onNext(JobId.newBuilder().setId(nextId).build());
        out.onCompleted();
    }

    @Override
    public void getJob(JobId request, StreamObserver<Job> out) {
        CountDownLatch gate = getJobGate;
        if (gate != null) {
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Job j = jobs.get(request.getId());
        List<JobEvent> events = watches.get(request.getId());
        if (j == null && models.containsKey(request.getId())) {
            // as the real service: a job with a model has a record
            j = Job.newBuilder().setId(request.getId()).setState(JobState.SUCCEEDED).setModelAvailable(true).build();
        }
        if (j == null && events != null) {
            // as the real service: a job that can be watched has a record
            j = events.stream().filter(JobEvent::hasSnapshot).map(JobEvent::getSnapshot).findFirst()
                    .orElse(Job.newBuilder().setId(request.getId()).build());
        }
        if (j == null) {
            out.onError(Status.NOT_FOUND.withDescription("no job " + request.getId()).asRuntimeException());
            return;
        }
        out.onNext(j);
        out.onCompleted();
    }

    @Override
    public void listJobs(ListJobsRequest request, StreamObserver<ListJobsResponse> out) {
        lastList = request;
        out.onNext(ListJobsResponse.newBuilder().addAllJobs(listed).build());
        out.onCompleted();
    }

    @Override
    public void watchJob(JobId request, StreamObserver<JobEvent> out) {
        List<JobEvent> events = watches.get(request.getId());
        if (events == null) {
            out.onError(Status.NOT_FOUND.withDescription("no job " + request.getId()).asRuntimeException());
            return;
        }
        Integer breakAfter = breakFirstWatchAfter.remove(request.getId());
        if (breakAfter != null) {
            // as a coordinator that stops while the job runs: its watches end UNAVAILABLE
            events.subList(0, breakAfter).forEach(out::onNext);
            out.onError(Status.UNAVAILABLE.withDescription("the coordinator is shutting down").asRuntimeException());
            return;
        }
        events.forEach(out::onNext);
        out.onCompleted();
    }

    @Override
    public void deleteJob(JobId request, StreamObserver<Job> out) {
        Job j = jobs.get(request.getId());
        if (j == null) {
            out.onError(Status.NOT_FOUND.withDescription("no job " + request.getId()).asRuntimeException());
        } else if (j.getState() == JobState.QUEUED || j.getState() == JobState.RUNNING) {
            out.onError(Status.FAILED_PRECONDITION.withDescription("job " + j.getId() + " has not ended ("
                    + j.getState() + "); cancel it first").asRuntimeException());
        } else {
            jobs.remove(j.getId());
            out.onNext(j);
            out.onCompleted();
        }
    }

    @Override
    public void cancelJob(JobId request, StreamObserver<Job> out) {
        if (cancelFailure != null) {
            out.onError(cancelFailure.asRuntimeException());
            return;
        }
        Job j = jobs.get(request.getId());
        if (j == null) {
            out.onError(Status.NOT_FOUND.withDescription("no job " + request.getId()).asRuntimeException());
            return;
        }
        Job cancelled = j.toBuilder().setState(j.getState() == JobState.RUNNING ? JobState.RUNNING : JobState.CANCELLED)
                .build();
        jobs.put(j.getId(), cancelled);
        out.onNext(cancelled);
        out.onCompleted();
    }

    @Override
    public void resumeJob(JobId request, StreamObserver<Job> out) {
        Job j = jobs.get(request.getId());
        if (j == null) {
            out.onError(Status.NOT_FOUND.withDescription("no job " + request.getId()).asRuntimeException());
        } else if (j.getCheckpointStep() == 0) {
            out.onError(Status.FAILED_PRECONDITION.withDescription("job " + j.getId() + " (" + j.getState()
                    + ") cannot be resumed: it ended before its first step").asRuntimeException());
        } else {
            Job queued = j.toBuilder().setState(JobState.QUEUED).setStepsDone(j.getCheckpointStep())
                    .setCheckpointStep(0).setQueuePosition(1).setReason("").build();
            jobs.put(j.getId(), queued);
            out.onNext(queued);
            out.onCompleted();
        }
    }

    @Override
    public void getModel(JobId request, StreamObserver<ModelChunk> out) {
        byte[] model = models.get(request.getId());
        if (model == null) {
            out.onError(Status.FAILED_PRECONDITION.withDescription("job " + request.getId() + " has no model")
                    .asRuntimeException());
            return;
        }
        long total = announcedModelSize >= 0 ? announcedModelSize : model.length;
        int chunk = 1 << 20;
        for (int off = 0; off < model.length; off += chunk) {
            out.onNext(ModelChunk.newBuilder().setOffset(off).setTotalSize(total)
                    .setData(ByteString.copyFrom(model, off, Math.min(chunk, model.length - off))).build());
        }
        out.onCompleted();
    }

    @Override
    public void close() {
        CountDownLatch gate = getJobGate;
        if (gate != null) {
            gate.countDown();
        }
        try {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- building a job's story ----

    /** A job record. */
    static Job job(String id, String name, JobState state, int epochsDone, int epochsTotal) {
        return Job.newBuilder().setId(id).setName(name).setState(state).setEpochsDone(epochsDone)
                .setEpochsTotal(epochsTotal).setSubmittedAtMs(1_700_000_000_000L).setQueuePosition(-1).build();
    }

    static EpochMetrics epoch(int epoch, double trainLoss, double valAccuracy) {
        return EpochMetrics.newBuilder().setEpoch(epoch).setTrainLoss(trainLoss).setValLoss(trainLoss * 1.1)
                .setValAccuracy(valAccuracy).setSamplesPerSecond(12_345.6).setElapsedSeconds(epoch * 2.5)
                .setLearningRate(0.001).setWorkers(2).build();
    }

    static StepProgress step(int epoch, long stepInEpoch, long stepsInEpoch, int epochs, double loss) {
        return StepProgress.newBuilder().setEpoch(epoch).setStepInEpoch(stepInEpoch).setStepsInEpoch(stepsInEpoch)
                .setStep((epoch - 1) * stepsInEpoch + stepInEpoch).setStepsTotal(stepsInEpoch * epochs).setLoss(loss)
                .setSamplesPerSecond(1000).setEpochSecondsLeft((stepsInEpoch - stepInEpoch) * 0.5).build();
    }

    /**
     * The events of a job that runs {@code epochs} epochs of {@code steps} steps each and ends in
     * {@code end} (after the epochs, or after the first epoch's steps if it does not succeed).
     */
    static List<JobEvent> story(String id, int epochs, int steps, JobState end, String reason) {
        List<JobEvent.Builder> events = new ArrayList<>();
        Job queued = job(id, "story", JobState.QUEUED, 0, epochs).toBuilder().setQueuePosition(0).build();
        events.add(JobEvent.newBuilder().setSnapshot(queued));
        events.add(JobEvent.newBuilder().setState(StateChange.newBuilder().setState(JobState.RUNNING)));
        Job.Builder finished = queued.toBuilder().setState(end).setReason(reason).setQueuePosition(-1)
                .setStartedAtMs(1_700_000_001_000L).setFinishedAtMs(1_700_000_013_500L);
        for (int e = 1; e <= epochs; e++) {
            for (int s = 1; s <= steps; s++) {
                events.add(JobEvent.newBuilder().setStep(step(e, s, steps, epochs, 2.0 / (e * steps + s))));
            }
            if (end != JobState.SUCCEEDED) {
                break;
            }
            EpochMetrics m = epoch(e, 1.0 / e, 0.5 + 0.1 * e);
            events.add(JobEvent.newBuilder().setEpoch(m));
            finished.addEpochs(m).setEpochsDone(e);
        }
        events.add(JobEvent.newBuilder().setState(StateChange.newBuilder().setState(end).setReason(reason)));
        events.add(JobEvent.newBuilder().setFinished(finished));
        List<JobEvent> out = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            out.add(events.get(i).setJobId(id).setSequence(i + 1).build());
        }
        return out;
    }
}
