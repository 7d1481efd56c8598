package io.parallax.coordinator.service;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobEvent;
import io.parallax.proto.v1.JobId;
import io.parallax.proto.v1.JobServiceGrpc;
import io.parallax.proto.v1.JobSpec;
import io.parallax.proto.v1.JobState;
import io.parallax.proto.v1.ListJobsRequest;
import io.parallax.proto.v1.ListJobsResponse;
import io.parallax.proto.v1.ModelChunk;
import io.parallax.worker.job.FieldError;
import io.parallax.worker.job.InvalidJobException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job API ({@code parallax.v1.JobService}) over a {@link JobQueue}.
 *
 * <p>No handler blocks the thread gRPC calls it on (the coordinator's server runs handlers on
 * its transport threads): submissions are validated on a small pool of their own, since
 * validating reads the job's data; every other call, and every stream's sending, runs on a second
 * pool. Streams honour flow control ({@link JobWatcher}, {@link ModelStreamer}).
 *
 * <p>Errors reach the client as a status and a sentence, never a Java stack trace: an invalid
 * spec is INVALID_ARGUMENT whose description has one {@code field.path: reason} line per
 * problem (the same list rides along as a {@code google.rpc.BadRequest} detail); an unknown id
 * is NOT_FOUND (an empty one INVALID_ARGUMENT); a full queue, or data the coordinator's memory
 * cannot hold, RESOURCE_EXHAUSTED; a call on a job in the wrong state
 * FAILED_PRECONDITION; a coordinator shutting down UNAVAILABLE.
 */
public final class JobServiceImpl extends JobServiceGrpc.JobServiceImplBase implements AutoCloseable {

    /** Jobs validated at once; each may hold a dataset in memory while it is checked. */
    static final int VALIDATORS = 2;

    /** Threads for the quick calls and the streams' sending. */
    static final int SENDERS = 4;

    /** {@code ListJobs}'s default limit. */
    static final int DEFAULT_LIST_LIMIT = 100;

    private static final Logger log = LoggerFactory.getLogger(JobServiceImpl.class);

    private final JobQueue queue;
    private final ExecutorService validators = pool("job-validate", VALIDATORS);
    private final ExecutorService senders = pool("job-service", SENDERS);

    /** Serves {@code queue}; the queue's life is the caller's, this service's pools are its own. */
    public JobServiceImpl(JobQueue queue) {
        this.queue = queue;
    }

    private static ExecutorService pool(String name, int threads) {
        AtomicInteger n = new AtomicInteger();
        return new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void submitJob(JobSpec spec, StreamObserver<JobId> out) {
        // the call's context: cancelled when the client's deadline passes or it goes away
        Context call = Context.current();
        run(validators, out, () -> {
            try {
                Job job = queue.submit(spec, call::isCancelled);
                log.info("job {} ({}) queued", job.getId(), job.getName());
                out.onNext(JobId.newBuilder().setId(job.getId()).build());
                out.onCompleted();
            } catch (OutOfMemoryError e) {
                // its data did not fit this JVM; the arrays that failed are gone again, and the
                // coordinator (its running job) goes on: the submitter is told, not the node ended
                log.warn("job{}: out of memory reading its data: {}", spec.getName().isEmpty() ? ""
                        : " (" + spec.getName() + ")", e.getMessage());
                out.onError(Status.RESOURCE_EXHAUSTED.withDescription("the coordinator ran out of memory reading the "
                        + "job's data (" + e.getMessage() + "): give it more (JAVA_OPTS=-Xmx…), or use less data")
                        .asRuntimeException());
            } catch (AbandonedSubmissionException e) {
                log.warn("job{} {}", spec.getName().isEmpty() ? "" : " (" + spec.getName() + ")", e.getMessage());
                out.onError(Status.CANCELLED.withDescription(e.getMessage()).asRuntimeException());
            } catch (InvalidJobException e) {
                out.onError(invalid(e));
            } catch (QueueFullException e) {
                out.onError(Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException());
            } catch (IllegalStateException e) {
                out.onError(Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException());
            }
        });
    }

    /** INVALID_ARGUMENT: one "field: reason" line per problem, and the same as BadRequest field violations. */
    static RuntimeException invalid(InvalidJobException e) {
        String description = e.errors().stream().map(FieldError::toString).collect(Collectors.joining("\n"));
        BadRequest.Builder details = BadRequest.newBuilder();
        for (FieldError f : e.errors()) {
            details.addFieldViolations(BadRequest.FieldViolation.newBuilder().setField(f.field())
                    .setDescription(f.message()));
        }
        return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                .setCode(Code.INVALID_ARGUMENT_VALUE).setMessage(description)
                .addDetails(Any.pack(details.build())).build());
    }

    @Override
    public void getJob(JobId id, StreamObserver<Job> out) {
        run(senders, out, () -> {
            Optional<Job> job = queue.get(id.getId());
            if (job.isEmpty()) {
                out.onError(notFound(id));
                return;
            }
            out.onNext(job.get());
            out.onCompleted();
        });
    }

    /**
     * A record for a list: its metrics of the last epoch only. A hundred records of thousands of
     * epochs each would pass gRPC's 4 MiB message limit, and `trainer status` would fail for
     * good on a coordinator that has run long jobs; GetJob still has every epoch.
     */
    private static Job lastEpochOnly(Job job) {
        int n = job.getEpochsCount();
        return n <= 1 ? job : job.toBuilder().clearEpochs().addEpochs(job.getEpochs(n - 1)).build();
    }

    @Override
    public void listJobs(ListJobsRequest request, StreamObserver<ListJobsResponse> out) {
        run(senders, out, () -> {
            if (request.getLimit() < 0) {
                out.onError(Status.INVALID_ARGUMENT.withDescription("limit: must be >= 0 (0 for "
                        + DEFAULT_LIST_LIMIT + "), got " + request.getLimit()).asRuntimeException());
                return;
            }
            if (request.getState() == JobState.UNRECOGNIZED) {
                out.onError(Status.INVALID_ARGUMENT.withDescription("state: unknown value "
                        + request.getStateValue()).asRuntimeException());
                return;
            }
            int limit = request.getLimit() == 0 ? DEFAULT_LIST_LIMIT : request.getLimit();
            ListJobsResponse.Builder reply = ListJobsResponse.newBuilder();
            for (Job job : queue.list(request.getState(), limit)) {
                reply.addJobs(lastEpochOnly(job));
            }
            out.onNext(reply.build());
            out.onCompleted();
        });
    }

    @Override
    public void cancelJob(JobId id, StreamObserver<Job> out) {
        run(senders, out, () -> {
            JobQueue.Cancellation c = queue.cancel(id.getId());
            switch (c.outcome()) {
                case UNKNOWN -> out.onError(notFound(id));
                case ALREADY_ENDED -> out.onError(Status.FAILED_PRECONDITION.withDescription("job " + id.getId()
                        + " has already ended (" + c.job().getState() + ")").asRuntimeException());
                case CANCELLED, STOPPING -> {
                    log.info("job {}: cancel requested", id.getId());
                    // the record as the request found it: RUNNING while the job finishes its step
                    out.onNext(c.job());
                    out.onCompleted();
                }
                default -> throw new IllegalStateException("unhandled " + c.outcome());
            }
        });
    }

    @Override
    public void resumeJob(JobId id, StreamObserver<Job> out) {
        run(senders, out, () -> {
            JobQueue.Resumption r;
            try {
                r = queue.resume(id.getId());
            } catch (QueueFullException e) {
                out.onError(Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException());
                return;
            } catch (IllegalStateException e) {
                out.onError(Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException());
                return;
            }
            switch (r.outcome()) {
                case UNKNOWN -> out.onError(notFound(id));
                case NOT_ENDED -> out.onError(Status.FAILED_PRECONDITION.withDescription("job " + id.getId()
                        + " has not ended (" + r.job().getState() + "): there is nothing to resume").asRuntimeException());
                case SUCCEEDED -> out.onError(Status.FAILED_PRECONDITION.withDescription("job " + id.getId()
                        + " SUCCEEDED: there is nothing left to train").asRuntimeException());
                case NO_CHECKPOINT -> out.onError(Status.FAILED_PRECONDITION.withDescription("job " + id.getId()
                        + " (" + r.job().getState() + ") cannot be resumed: " + r.why()
                        + "; submit its job file again to train it from the first epoch").asRuntimeException());
                case QUEUED -> {
                    log.info("job {}: resumed on request", id.getId());
                    out.onNext(r.job());
                    out.onCompleted();
                }
                default -> throw new IllegalStateException("unhandled " + r.outcome());
            }
        });
    }

    @Override
    public void deleteJob(JobId id, StreamObserver<Job> out) {
        run(senders, out, () -> {
            Optional<Job> before = queue.get(id.getId());
            JobQueue.DeleteOutcome outcome = queue.delete(id.getId());
            switch (outcome) {
                case UNKNOWN -> out.onError(notFound(id));
                case NOT_ENDED -> out.onError(Status.FAILED_PRECONDITION.withDescription("job " + id.getId()
                        + " has not ended (" + before.map(Job::getState).orElseThrow() + "); cancel it first")
                        .asRuntimeException());
                case DELETED -> {
                    log.info("job {}: deleted", id.getId());
                    out.onNext(before.orElseThrow());
                    out.onCompleted();
                }
                default -> throw new IllegalStateException("unhandled " + outcome);
            }
        });
    }

    @Override
    public void watchJob(JobId id, StreamObserver<JobEvent> out) {
        JobWatcher watcher = new JobWatcher((ServerCallStreamObserver<JobEvent>) out, senders);
        run(senders, out, () -> {
            Optional<Runnable> leave = queue.watch(id.getId(), watcher);
            if (leave.isEmpty()) {
                out.onError(notFound(id));
                return;
            }
            watcher.attach(leave.get());
        });
    }

    @Override
    public void getModel(JobId id, StreamObserver<ModelChunk> out) {
        ModelStreamer streamer = new ModelStreamer((ServerCallStreamObserver<ModelChunk>) out, senders);
        run(senders, out, () -> {
            Optional<Job> job = queue.get(id.getId());
            if (job.isEmpty()) {
                out.onError(notFound(id));
                return;
            }
            // the record's model_available, as status shows it, not its state: a job whose record
            // could not be read at the start is FAILED, but its intact model is still to be had
            if (!job.get().getModelAvailable()) {
                JobState state = job.get().getState();
                out.onError(Status.FAILED_PRECONDITION.withDescription("job " + id.getId() + " has no model: it is "
                        + state + (state == JobState.SUCCEEDED ? " but its model file is gone"
                        : state == JobState.CANCELLED ? " (before its first step, or its weights could not be kept: see "
                                + "its reason)"
                        : "; only a SUCCEEDED job has one, or a job cancelled while it ran")).asRuntimeException());
                return;
            }
            Path file = queue.modelFile(job.get().getId());
            if (!Files.isRegularFile(file)) {
                out.onError(Status.DATA_LOSS.withDescription("the model file of job " + id.getId()
                        + " is missing from the coordinator's state directory").asRuntimeException());
                return;
            }
            // its header against its length: a file cut short (a disk error, a copy that stopped)
            // would otherwise be streamed whole and written by the client as if it were the model
            String damage = JobStore.damaged(file);
            if (damage != null) {
                out.onError(Status.DATA_LOSS.withDescription("the model file of job " + id.getId() + " in the "
                        + "coordinator's state directory is damaged: " + damage).asRuntimeException());
                return;
            }
            streamer.start(file);
        });
    }

    private static RuntimeException notFound(JobId id) {
        if (id.getId().isEmpty()) {
            // no id at all is a malformed request, not a job that is not there
            return Status.INVALID_ARGUMENT.withDescription("id: a job id is required (job-000001, say; ListJobs "
                    + "shows the known ones)").asRuntimeException();
        }
        return Status.NOT_FOUND.withDescription("no job '" + id.getId() + "' (ListJobs shows the known ones)")
                .asRuntimeException();
    }

    /** A handler body that may throw; off the transport thread, and any surprise becomes INTERNAL. */
    private interface Body {
        void run() throws Exception;
    }

    /**
     * A failure in words: a file-system exception's message is often the bare path
     * ({@code AccessDeniedException: /srv/state/jobs/job-000011}), which says nothing of why.
     */
    static String describe(Exception e) {
        if (e instanceof FileSystemException f) {
            String why = f.getReason() != null ? f.getReason()
                    : e instanceof AccessDeniedException ? "permission denied"
                    : e instanceof NoSuchFileException ? "no such file"
                    : e instanceof FileAlreadyExistsException ? "already exists"
                    : e instanceof NotDirectoryException ? "not a folder"
                    : e instanceof DirectoryNotEmptyException ? "a folder that is not empty"
                    : e.getClass().getSimpleName();
            return f.getFile() + ": " + why + (f.getOtherFile() == null ? "" : " (" + f.getOtherFile() + ")");
        }
        return String.valueOf(e.getMessage());
    }

    private static void run(ExecutorService pool, StreamObserver<?> out, Body body) {
        Runnable task = () -> {
            try {
                body.run();
            } catch (Exception e) {
                // a bug or a disk failure: the log gets the trace, the client a sentence
                log.error("job service call failed", e);
                try {
                    out.onError(Status.INTERNAL.withDescription("the coordinator failed: " + describe(e))
                            .asRuntimeException());
                } catch (IllegalStateException alreadyClosed) {
                    // the call had already ended
                }
            }
        };
        try {
            pool.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            out.onError(Status.UNAVAILABLE.withDescription("the coordinator is shutting down").asRuntimeException());
        }
    }

    /** Stops the service's pools (the queue is the caller's to stop). */
    @Override
    public void close() {
        validators.shutdownNow();
        senders.shutdownNow();
    }
}
