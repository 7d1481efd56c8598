package io.parallax.coordinator.service;

import io.parallax.coordinator.CheckpointFile;
import io.parallax.coordinator.JobCancelledException;
import io.parallax.coordinator.JobFailedException;
import io.parallax.coordinator.JobListener;
import io.parallax.coordinator.JobListeners;
import io.parallax.coordinator.JobRunner;
import io.parallax.coordinator.SlowNotice;
import io.parallax.engine.io.ModelFile;
import io.parallax.engine.model.Sequential;
import io.parallax.proto.v1.EpochMetrics;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobEvent;
import io.parallax.proto.v1.JobSpec;
import io.parallax.proto.v1.JobState;
import io.parallax.proto.v1.StateChange;
import io.parallax.proto.v1.StepProgress;
import io.parallax.worker.job.DataRoots;
import io.parallax.worker.job.InvalidJobException;
import io.parallax.worker.job.JobPlan;
import io.parallax.worker.job.MemoryBudget;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded FIFO of jobs run one at a time on the cluster's workers by a single runner thread:
 * QUEUED → RUNNING → SUCCEEDED | FAILED (with a reason) | CANCELLED, and a FAILED or CANCELLED
 * job that kept a checkpoint QUEUED again on request ({@link #resume}). Every change is written to
 * the {@link JobStore} and told to the job's watchers; per-step progress updates the record in
 * memory only (a disk write per step would cost more than some steps).
 *
 * <p>A job is validated in full at submission ({@link JobPlan#load}, data read included) and the
 * loaded plan is dropped: queued jobs cost no memory beyond their specs, at the price of reading
 * the data twice. It is loaded again when the job starts; if the data changed meanwhile so that
 * it no longer loads, the job fails with the validator's message.
 *
 * <p>Thread-safe. One lock guards the records, the queue and the watchers; watchers are called
 * under it and must not block ({@link EventSink}).
 */
public final class JobQueue implements AutoCloseable {

    /** Receives one job's events, in order. Called under the queue's lock: must not block. */
    public interface EventSink {
        /** An event (its {@code sequence} unset: numbering is per stream). */
        void accept(JobEvent event);

        /** The queue is shutting down; no more events will come. */
        void abort(String reason);
    }

    /** Default number of jobs that may wait. */
    public static final int DEFAULT_CAPACITY = 100;

    /**
     * Default least time between two checkpoints of a running job: a crash loses at most this
     * much training (plus the epoch in progress), and a large model's checkpoint, a few times its
     * size on disk, is not rewritten every few seconds.
     */
    public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(60);

    private static final Logger log = LoggerFactory.getLogger(JobQueue.class);

    private final JobStore store;
    private final TrainingCluster cluster;
    private final DataRoots roots;
    private final int capacity;
    private final JobListenerFactory listeners;
    private final Duration checkpointInterval;
    private final Object lock = new Object();
    private final Map<String, Job> jobs = new LinkedHashMap<>();
    private final ArrayDeque<String> pending = new ArrayDeque<>();
    private final Map<String, List<EventSink>> sinks = new HashMap<>();
    private final Thread thread;
    private String runningId;
    private JobRunner runner;
    /**
     * The plan read when job {@code submittedId} was submitted with nothing running or waiting,
     * kept for its start a moment later so that its data are not read twice in a row (a folder of
     * thousands of images takes a minute); guarded by {@code lock}.
     */
    private String submittedId;
    private JobPlan submittedPlan;
    private long submittedAtNanos;
    /** How long after its submission a job's plan is still taken as read: its files may change later. */
    private static final long SUBMITTED_PLAN_NANOS = TimeUnit.SECONDS.toNanos(60);
    /** Whether the next job waits while no worker is live; set before the runner thread starts. */
    private boolean holdWithoutWorkers;
    /** How often a queue held for want of workers looks again. */
    private static final long NO_WORKER_POLL_MILLIS = 250;
    /** How long a running job's data may take to read before its watchers are told that they are being read. */
    private static final Duration SLOW_LOAD = Duration.ofSeconds(5);
    /** The job told it waits for a worker, so that it is told once; guarded by {@code lock}. */
    private String toldNoWorker;
    private boolean cancelRequested;
    private boolean closed;

    /** How often an idle queue tries again to write records that could not be written. */
    private static final long UNSAVED_RETRY_MILLIS = 10_000;
    /** How often a trained model that could not be saved (a full disk) is tried again; tests shorten it. */
    static volatile long modelSaveRetryMillis = 10_000;
    /** How long a trained model that cannot be saved is tried again before its job fails. */
    static final long MODEL_SAVE_PATIENCE_MILLIS = 10 * 60_000;
    /** Jobs whose latest record could not be written; guarded by {@code lock}. */
    private final Set<String> unsaved = new LinkedHashSet<>();

    /** The least time between two writes of a running job's record for its epochs. */
    static final long EPOCH_RECORD_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** When each running job's record was last written for an epoch; guarded by {@code lock}. */
    private final Map<String, Long> lastEpochRecord = new HashMap<>();

    private JobQueue(JobStore store, TrainingCluster cluster, DataRoots roots, int capacity,
                     JobListenerFactory listeners, Duration checkpointInterval) {
        if (capacity < 1) {
            throw new IllegalArgumentException("the queue must hold at least 1 job, got " + capacity);
        }
        if (checkpointInterval.isNegative()) {
            throw new IllegalArgumentException("the checkpoint interval must be >= 0, got " + checkpointInterval);
        }
        this.store = store;
        this.cluster = cluster;
        this.roots = roots;
        this.capacity = capacity;
        this.listeners = listeners;
        this.checkpointInterval = checkpointInterval;
        for (Job j : store.loaded()) {
            jobs.put(j.getId(), j);
            // queued before the restart and never started: they run now, in their order (the
            // store lists oldest first), even beyond the capacity, which limits new submissions
            if (j.getState() == JobState.QUEUED) {
                pending.addLast(j.getId());
            }
        }
        if (!pending.isEmpty()) {
            log.info("{} job(s) queued before the restart: {}", pending.size(), pending);
        }
        // changed at the start (a running job queued to resume, or failed) on a full disk: written
        // as the records that fail later are, with the next write or when the queue is idle
        unsaved.addAll(store.unsavedOnOpen());
        this.thread = new Thread(this::runLoop, "job-queue");
        thread.setDaemon(true);
    }

    /**
     * Starts a queue over {@code store}'s records, running jobs on {@code cluster}; paths in jobs
     * must lie under {@code roots}; at most {@code capacity} jobs wait; {@code listeners} makes
     * each job's metrics writers. Running jobs are checkpointed every
     * {@link #DEFAULT_CHECKPOINT_INTERVAL} at most.
     */
    public static JobQueue start(JobStore store, TrainingCluster cluster, DataRoots roots, int capacity,
                                 JobListenerFactory listeners) {
        return start(store, cluster, roots, capacity, listeners, DEFAULT_CHECKPOINT_INTERVAL);
    }

    /**
     * As {@link #start(JobStore, TrainingCluster, DataRoots, int, JobListenerFactory)}, a running
     * job checkpointed after the step or epoch at which {@code checkpointInterval} has passed since its run
     * started or it last was (after every epoch when zero).
     */
    public static JobQueue start(JobStore store, TrainingCluster cluster, DataRoots roots, int capacity,
                                 JobListenerFactory listeners, Duration checkpointInterval) {
        return start(store, cluster, roots, capacity, listeners, checkpointInterval, true);
    }

    /**
     * As {@link #start(JobStore, TrainingCluster, DataRoots, int, JobListenerFactory, Duration)};
     * with {@code holdWithoutWorkers}, the next job waits in the queue while no worker is live
     * (an outage of every worker would otherwise fail one queued job after another, each after
     * the cluster's worker wait), and starts when one joins; without it, it starts and fails
     * after the worker wait, as a script that runs given jobs and exits wants.
     */
    public static JobQueue start(JobStore store, TrainingCluster cluster, DataRoots roots, int capacity,
                                 JobListenerFactory listeners, Duration checkpointInterval, boolean holdWithoutWorkers) {
        JobQueue q = new JobQueue(store, cluster, roots, capacity, listeners, checkpointInterval);
        q.holdWithoutWorkers = holdWithoutWorkers;
        q.thread.start();
        return q;
    }

    /** The data roots jobs are confined to. */
    public DataRoots roots() {
        return roots;
    }

    // ---- the API --------------------------------------------------------------------------------

    /**
     * Validates {@code spec} in full (reading its data) and queues it. Blocks while the data is
     * read; call it off gRPC's transport threads.
     *
     * @throws InvalidJobException    listing every problem, each with its field path
     * @throws QueueFullException     when {@code capacity} jobs are already waiting
     * @throws IllegalStateException  when the queue is shutting down
     * @throws IOException            when the record cannot be written
     */
    public Job submit(JobSpec spec) throws QueueFullException, IOException {
        return submit(spec, () -> false);
    }

    /**
     * As {@link #submit(JobSpec)}, but queues nothing when {@code abandoned} says, once the data
     * is read, that the submitter stopped waiting for the answer (its deadline passed): it was
     * told the submission failed, and would submit again, so the job would run twice.
     *
     * @throws AbandonedSubmissionException when {@code abandoned} is true after the data was read
     */
    public Job submit(JobSpec spec, java.util.function.BooleanSupplier abandoned)
            throws QueueFullException, IOException {
        long readFrom = System.nanoTime();
        if (abandoned.getAsBoolean()) {
            // waited for a validator past its deadline: its data are not read at all
            throw new AbandonedSubmissionException(Duration.ZERO);
        }
        // what this coordinator needs to run it, checked now: not hours later, when its turn comes
        JobPlan plan = JobPlan.load(spec, roots, JobQueue::coordinatorBudget);
        long stepsTotal = plan.stepsPerEpoch() * plan.epochs();
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("the coordinator is shutting down");
            }
            if (abandoned.getAsBoolean()) {
                throw new AbandonedSubmissionException(Duration.ofNanos(System.nanoTime() - readFrom));
            }
            if (pending.size() >= capacity) {
                throw new QueueFullException(capacity);
            }
            String id = store.newId();
            Job job = Job.newBuilder()
                    .setId(id)
                    .setName(spec.getName().isEmpty() ? id : spec.getName())
                    .setState(JobState.QUEUED)
                    .setSpec(spec)
                    .setSubmittedAtMs(System.currentTimeMillis())
                    .setQueuePosition(pending.size())
                    .setEpochsTotal(spec.getEpochs())
                    .setStepsTotal(stepsTotal)
                    .build();
            try {
                store.save(job);
            } catch (IOException e) {
                // refused: no folder of a job that does not exist stays behind (its id is spent)
                try {
                    store.delete(id);
                } catch (IOException cleanup) {
                    e.addSuppressed(cleanup);
                }
                throw e;
            }
            jobs.put(id, job);
            pending.addLast(id);
            if (runningId == null && pending.size() == 1) {
                submittedId = id;
                submittedPlan = plan;
                submittedAtNanos = System.nanoTime();
            }
            lock.notifyAll();
            return job;
        }
    }

    /** The record of job {@code id}, its queue position current; empty for an unknown id. */
    public Optional<Job> get(String id) {
        synchronized (lock) {
            return Optional.ofNullable(view(id));
        }
    }

    /** Jobs in {@code state} (all for {@code JOB_STATE_UNSPECIFIED}), newest first, at most {@code limit}. */
    public List<Job> list(JobState state, int limit) {
        synchronized (lock) {
            List<String> ids = new ArrayList<>(jobs.keySet());
            // ids are zero-padded counters that may outgrow their padding: newest first by number
            ids.sort(Comparator.comparing(String::length).thenComparing(Comparator.naturalOrder()).reversed());
            List<Job> out = new ArrayList<>();
            for (String id : ids) {
                if (out.size() >= limit) {
                    break;
                }
                Job j = view(id);
                if (state == JobState.JOB_STATE_UNSPECIFIED || j.getState() == state) {
                    out.add(j);
                }
            }
            return out;
        }
    }

    /** The result of {@link #cancel}. */
    public enum CancelOutcome {
        /** No such job. */
        UNKNOWN,
        /** It was queued and is now CANCELLED. */
        CANCELLED,
        /** It is running and stops after its current step. */
        STOPPING,
        /** It had already ended; nothing changed. */
        ALREADY_ENDED
    }

    /**
     * What {@link #cancel} did, and the job's record as it was then (null for an unknown job): a
     * running job may end, CANCELLED, a moment later, and the answer to the request must not
     * depend on that race.
     */
    public record Cancellation(CancelOutcome outcome, Job job) {}

    /**
     * Cancels job {@code id}: a queued one leaves the queue at once, a running one stops after its
     * current step (its watchers then see CANCELLED).
     */
    public Cancellation cancel(String id) throws IOException {
        synchronized (lock) {
            Job job = jobs.get(id);
            if (job == null) {
                return new Cancellation(CancelOutcome.UNKNOWN, null);
            }
            if (ended(job.getState())) {
                return new Cancellation(CancelOutcome.ALREADY_ENDED, job);
            }
            if (job.getState() == JobState.QUEUED) {
                pending.remove(id);
                if (id.equals(submittedId)) {
                    submittedId = null;
                    submittedPlan = null;
                }
                finish(job.toBuilder().setState(JobState.CANCELLED).setReason("cancelled while queued")
                        .setQueuePosition(-1).setFinishedAtMs(System.currentTimeMillis()).build());
                return new Cancellation(CancelOutcome.CANCELLED, jobs.get(id));
            }
            cancelRequested = true;
            if (runner != null) {
                runner.cancel();
            }
            // on the disk before the answer: a crash before the job's next step must not resume it
            Job marked = job.toBuilder().setCancelRequested(true).build();
            jobs.put(id, marked);
            persist(marked);
            lock.notifyAll(); // a model waiting for room to be saved is not waited for any longer
            return new Cancellation(CancelOutcome.STOPPING, job);
        }
    }

    /** The result of {@link #delete}. */
    public enum DeleteOutcome {
        /** No such job. */
        UNKNOWN,
        /** It is queued or running: cancel it first. */
        NOT_ENDED,
        /** Its record and files are gone. */
        DELETED
    }

    /**
     * Forgets ended job {@code id}: its record leaves the queue and its folder (record, metrics,
     * model) the state directory. A download in flight finishes from its open file.
     *
     * @throws IOException if the folder could not be deleted whole (the record is then kept)
     */
    public DeleteOutcome delete(String id) throws IOException {
        synchronized (lock) {
            Job job = jobs.get(id);
            if (job == null) {
                return DeleteOutcome.UNKNOWN;
            }
            if (!ended(job.getState())) {
                return DeleteOutcome.NOT_ENDED;
            }
            store.delete(id);
            jobs.remove(id);
            return DeleteOutcome.DELETED;
        }
    }

    /** The result of {@link #resume}. */
    public enum ResumeOutcome {
        /** No such job. */
        UNKNOWN,
        /** It is queued or running already. */
        NOT_ENDED,
        /** It SUCCEEDED: there is nothing left to train. */
        SUCCEEDED,
        /** It ended without a checkpoint to go on from (or one that can no longer be read). */
        NO_CHECKPOINT,
        /** It is QUEUED again and resumes from its checkpoint when its turn comes. */
        QUEUED
    }

    /**
     * What {@link #resume} did, the job's record after it (null for an unknown job), and for
     * {@code NO_CHECKPOINT} why, in words.
     */
    public record Resumption(ResumeOutcome outcome, Job job, String why) {}

    /**
     * Queues again a FAILED or CANCELLED job that kept its checkpoint: it runs when its turn
     * comes, from its checkpoint, as a job does after a restart (its record drops the
     * epochs after the checkpoint's; {@code started} stays its first start). Its data are
     * checked when it starts, as for any queued job.
     *
     * @throws QueueFullException    when {@code capacity} jobs are already waiting
     * @throws IllegalStateException when the queue is shutting down
     */
    public Resumption resume(String id) throws QueueFullException {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("the coordinator is shutting down");
            }
            Job job = jobs.get(id);
            if (job == null) {
                return new Resumption(ResumeOutcome.UNKNOWN, null, "");
            }
            if (!ended(job.getState())) {
                return new Resumption(ResumeOutcome.NOT_ENDED, view(id), "");
            }
            if (job.getState() == JobState.SUCCEEDED) {
                return new Resumption(ResumeOutcome.SUCCEEDED, job, "");
            }
            if (job.getCheckpointStep() == 0) {
                // after steps, only a checkpoint that could not be written (a full disk) or read leaves none
                String why = !job.hasSpec() ? "its record cannot be read"
                        : job.getStepsDone() == 0 ? "it ended before its first step"
                        : job.getReason().equals(JobStore.RESTARTED) ? "its coordinator stopped after "
                                + job.getStepsDone() + " step(s), before the job's first checkpoint (taken "
                                + "--checkpoint-every after a job starts, 60 s by default)"
                        : "it kept no checkpoint of its " + job.getStepsDone() + " step(s): none could be written, or "
                                + "the last could not be read" + (job.getLastNote().startsWith("no checkpoint")
                                ? " (its last note: " + job.getLastNote() + ")" : " (the coordinator's log says which)");
                return new Resumption(ResumeOutcome.NO_CHECKPOINT, job, why);
            }
            if (pending.size() >= capacity) {
                throw new QueueFullException(capacity);
            }
            Optional<Job> resuming;
            try {
                resuming = store.resuming(job, "queued again by a resume request");
            } catch (IOException | RuntimeException e) {
                // kept as it is: a disk that failed a read may answer the next one
                log.warn("job {}: not resumed: its checkpoint cannot be read: {}", id, e.toString());
                return new Resumption(ResumeOutcome.NO_CHECKPOINT, job,
                        "its checkpoint cannot be read (" + e.getMessage() + ")");
            }
            if (resuming.isEmpty()) {
                // deleted by hand since the job ended: the record no longer offers it
                Job without = job.toBuilder().setCheckpointStep(0).build();
                persist(without);
                jobs.put(id, without);
                return new Resumption(ResumeOutcome.NO_CHECKPOINT, without, "its checkpoint file is gone");
            }
            // a model it offers (the weights a cancel left) stays offered until its end replaces it
            Job queued = resuming.get().toBuilder().setFinishedAtMs(0).setCheckpointStep(0)
                    .build();
            pending.addLast(id);
            update(queued, stateEvent(JobState.QUEUED, queued.getLastNote()));
            log.info("job {} QUEUED again: {}", id, queued.getLastNote());
            lock.notifyAll();
            return new Resumption(ResumeOutcome.QUEUED, view(id), "");
        }
    }

    /**
     * Starts watching job {@code id}: {@code sink} gets the record at once (a snapshot), then
     * every change until the finished record, after which the queue forgets it. For a job that
     * has ended, the snapshot and the finished record come at once.
     *
     * @return a handle that stops the watch, or empty for an unknown id
     */
    public Optional<Runnable> watch(String id, EventSink sink) {
        synchronized (lock) {
            Job job = view(id);
            if (job == null) {
                return Optional.empty();
            }
            sink.accept(JobEvent.newBuilder().setJobId(id).setSnapshot(job).build());
            if (ended(job.getState())) {
                sink.accept(JobEvent.newBuilder().setJobId(id).setFinished(job).build());
                return Optional.of(() -> { });
            }
            sinks.computeIfAbsent(id, k -> new ArrayList<>()).add(sink);
            return Optional.of(() -> {
                synchronized (lock) {
                    List<EventSink> list = sinks.get(id);
                    if (list != null) {
                        list.remove(sink);
                    }
                }
            });
        }
    }

    /** Completes with job {@code id}'s finished record (exceptionally if the queue shuts down first). */
    public CompletableFuture<Job> whenFinished(String id) {
        CompletableFuture<Job> f = new CompletableFuture<>();
        Optional<Runnable> w = watch(id, new EventSink() {
            @Override
            public void accept(JobEvent event) {
                if (event.hasFinished()) {
                    f.complete(event.getFinished());
                }
            }

            @Override
            public void abort(String reason) {
                f.completeExceptionally(new IllegalStateException(reason));
            }
        });
        if (w.isEmpty()) {
            f.completeExceptionally(new IllegalArgumentException("no job '" + id + "'"));
        }
        return f;
    }

    /** Where the model of job {@code id} is kept (whether or not it exists). */
    public Path modelFile(String id) {
        return store.modelFile(id);
    }

    /** Whether {@link #shutdown} has begun: a running job is then told to stop after its step. */
    boolean isShutDown() {
        synchronized (lock) {
            return closed;
        }
    }

    /**
     * Stops the queue: no more submissions, the running job stops after its current step
     * (waiting up to {@code wait} for it) and ends FAILED ({@link JobStore#STOPPED}), watchers
     * are told. Queued jobs keep their QUEUED records on disk: the next start queues them again.
     */
    public void shutdown(Duration wait) {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            if (runner != null) {
                runner.cancel();
            }
            lock.notifyAll();
        }
        try {
            thread.join(wait.toMillis());
            if (thread.isAlive()) {
                thread.interrupt();
                thread.join(wait.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (lock) {
            retryUnsaved();
            for (List<EventSink> list : sinks.values()) {
                for (EventSink s : list) {
                    s.abort("the coordinator is shutting down");
                }
            }
            sinks.clear();
        }
    }

    /** {@link #shutdown} waiting up to a minute for the running job's step. */
    @Override
    public void close() {
        shutdown(Duration.ofMinutes(1));
    }

    // ---- the runner thread ----------------------------------------------------------------------

    private void runLoop() {
        while (true) {
            Job job;
            synchronized (lock) {
                while ((pending.isEmpty() || heldForWorkers()) && !closed) {
                    try {
                        // idle with a record unwritten (a full disk): try it again now and then;
                        // held for workers: look for one now and then (the registry tells no one)
                        lock.wait(!pending.isEmpty() ? NO_WORKER_POLL_MILLIS
                                : unsaved.isEmpty() ? 0 : UNSAVED_RETRY_MILLIS);
                    } catch (InterruptedException e) {
                        return;
                    }
                    retryUnsaved();
                }
                if (closed) {
                    return;
                }
                String id = pending.removeFirst();
                runningId = id;
                runner = null;
                cancelRequested = false;
                Job queued = jobs.get(id);
                long now = System.currentTimeMillis();
                // a job that ran before a restart goes on from its checkpoint: it started back then
                job = (queued.getStartedAtMs() > 0 ? queued.toBuilder().setResumedAtMs(now)
                        : queued.toBuilder().setStartedAtMs(now)).setState(JobState.RUNNING).setQueuePosition(-1)
                        .setCancelRequested(false).build();
                update(job, stateEvent(JobState.RUNNING, ""));
                log.info("job {} ({}) running", id, job.getName());
            }
            try {
                runOne(job);
            } catch (RuntimeException e) {
                // a bug, not the user's doing: the log gets the trace, the record a sentence
                log.error("job {} failed unexpectedly", job.getId(), e);
                end(job.getId(), JobState.FAILED, "internal error: " + e, false);
            } finally {
                synchronized (lock) {
                    runningId = null;
                    runner = null;
                }
            }
        }
    }

    /** What a cluster's coordinator holds of a job ({@link JobRunner} checks it again as it starts). */
    private static void coordinatorBudget(JobPlan plan) {
        MemoryBudget.require(plan, 0, true, Math.max(1, plan.workers()));
    }

    /** The job without its init_from file: for a run whose checkpoint holds every weight. */
    private static JobSpec withoutInitFrom(JobSpec spec) {
        if (spec.getModel().getInitFrom().isEmpty()) {
            return spec;
        }
        JobSpec.Builder b = spec.toBuilder();
        b.getModelBuilder().clearInitFrom().clearInitFromLayers();
        return b.build();
    }

    private void runOne(Job job) {
        String id = job.getId();
        // a resumption (its record has steps done: a fresh job has none) takes every weight from
        // its checkpoint: the init_from file the job started from is not read again, so it may
        // have been moved or deleted since; a checkpoint gone meanwhile fails the run rather than
        // start it afresh, each of its epochs recorded twice
        boolean resuming = job.getStepsDone() > 0;
        JobSpec spec = resuming ? withoutInitFrom(job.getSpec()) : job.getSpec();
        Consumer<String> note = message -> {
            synchronized (lock) {
                // kept in the record too, so that status (and a watch started later) tell why a
                // job sits at epoch 0: written to disk with the record's next write
                jobs.put(id, jobs.get(id).toBuilder().setLastNote(message).setLastNoteAtMs(System.currentTimeMillis()).build());
                publish(id, JobEvent.newBuilder().setNote(message));
            }
        };
        JobPlan plan = null;
        synchronized (lock) {
            if (id.equals(submittedId) && !resuming && System.nanoTime() - submittedAtNanos < SUBMITTED_PLAN_NANOS) {
                plan = submittedPlan;
            }
            submittedId = null;
            submittedPlan = null;
        }
        if (plan == null) {
            // reading a large data set (thousands of images) takes a while: said once it has
            // taken seconds, so that a job at step 0 does not look stuck
            try (SlowNotice slow = SlowNotice.after(SLOW_LOAD, () -> note.accept("the coordinator is reading the "
                    + "job's data"))) {
                plan = JobPlan.load(spec, roots, JobQueue::coordinatorBudget);
            } catch (InvalidJobException e) {
                end(id, JobState.FAILED, "the job no longer loads: " + e.getMessage(), false);
                return;
            }
        }
        // what it trains on, in the operator's log: a column that is no feature shows here
        log.info("job {} {}", id, plan.dataSummary());
        JobProgress progress = new JobProgress(id, plan.stepsPerEpoch(), plan.epochs(), plan.train().rows(),
                new JobProgress.Sink() {
                    @Override
                    public void step(StepProgress step, int workers) {
                        onStep(id, step, workers);
                    }

                    @Override
                    public void epoch(EpochMetrics epoch) {
                        onEpoch(id, epoch);
                    }

                    @Override
                    public void note(String message) {
                        note.accept(message);
                    }
                });
        boolean trained = false;
        String saveFailure = null;
        JobRunner r = null;
        try (GuardedListener metrics = new GuardedListener(id, metricsListener(job, note), note)) {
            JobListener both = JobListeners.of(progress, metrics);
            r = cluster.runner(id, spec, plan, both);
            List<EpochMetrics> earlier = job.getEpochsList();
            CheckpointFile checkpoint = new CheckpointFile(store.checkpointFile(id), checkpointInterval,
                    epoch -> epoch <= earlier.size() ? earlier.get(epoch - 1).getElapsedSeconds() : 0, () -> {
                        synchronized (lock) {
                            persist(jobs.get(id));
                            lastEpochRecord.put(id, System.nanoTime());
                        }
                    }, note);
            r.checkpoints(resuming ? checkpoint.mustExist() : checkpoint);
            synchronized (lock) {
                runner = r;
                if (cancelRequested || closed) {
                    r.cancel();
                }
            }
            JobRunner.Result result = r.run();
            saveFailure = saveModel(id, result, plan, note);
            trained = true;
        } catch (InvalidJobException e) {
            // init_from unreadable when the model is built, say: the user's problem, in their words
            end(id, JobState.FAILED, e.getMessage(), false);
        } catch (JobCancelledException e) {
            endCancelled(id, r, plan, "cancelled while running (" + e.getMessage() + ")");
        } catch (JobFailedException e) {
            end(id, JobState.FAILED, e.getMessage(), false);
        } catch (InterruptedException e) {
            // only shutdown interrupts this thread (the job did not stop at a step boundary in time)
            end(id, JobState.FAILED, JobStore.STOPPED, false);
            Thread.currentThread().interrupt();
        }
        // ended only now, its metrics closed (the chart written): an ended job may be deleted,
        // and its folder must not be written to after that
        if (trained) {
            end(id, saveFailure == null ? JobState.SUCCEEDED : JobState.FAILED,
                    saveFailure == null ? "" : saveFailure, saveFailure == null);
        }
    }

    /**
     * Ends a job its runner stopped at a cancel. A user's cancel leaves the weights of its last
     * step as the job's model, so that a run stopped once it was good enough can be taken away
     * (and {@code resume} still goes on from its checkpoint); one written once, not waited for:
     * the user asked for the job to stop.
     */
    private void endCancelled(String id, JobRunner runner, JobPlan plan, String reason) {
        boolean byUser;
        synchronized (lock) {
            byUser = cancelRequested;
        }
        Optional<Sequential> model = byUser && runner != null ? runner.modelAtCancel() : Optional.empty();
        boolean saved = false;
        if (model.isPresent()) {
            try {
                ModelFile.save(model.get(), store.modelFile(id), plan.preprocessing());
                saved = true;
                reason += "; its model holds the weights of its last step";
            } catch (IOException e) {
                log.warn("job {}: its weights at the cancel could not be saved as its model: {}", id, e.toString());
                reason += "; its weights could not be saved as its model (" + e.getMessage() + ")";
            }
        }
        end(id, JobState.CANCELLED, reason, saved);
    }

    /**
     * Saves a trained job's model; null when it is saved, else why not. A model that cannot be
     * written (a full disk) is tried again every {@link #modelSaveRetryMillis} for up to
     * {@link #MODEL_SAVE_PATIENCE_MILLIS}, the job's watchers told, so that freeing space in time
     * saves the run instead of failing it (its checkpoint goes with it); a cancel or the queue's
     * shutdown ends the waiting.
     */
    private String saveModel(String id, JobRunner.Result result, JobPlan plan, Consumer<String> note)
            throws InterruptedException {
        long giveUpAt = System.nanoTime() + MODEL_SAVE_PATIENCE_MILLIS * 1_000_000;
        boolean told = false;
        while (true) {
            try {
                ModelFile.save(result.model(), store.modelFile(id), plan.preprocessing());
                if (told) {
                    log.info("job {}: its model is saved", id);
                    note.accept("the model is saved");
                }
                return null;
            } catch (IOException e) {
                String why = "the model could not be saved: " + e.getMessage();
                synchronized (lock) {
                    if (cancelRequested || closed || System.nanoTime() > giveUpAt) {
                        return why;
                    }
                    if (!told) {
                        told = true;
                        log.warn("job {}: {}; trying again every {} s", id, why, modelSaveRetryMillis / 1000);
                        note.accept(why + "; trying again every " + Math.max(1, modelSaveRetryMillis / 1000)
                                + " s for up to " + MODEL_SAVE_PATIENCE_MILLIS / 60_000
                                + " minutes (free some space, or cancel the job)");
                    }
                    lock.wait(modelSaveRetryMillis);
                }
            }
        }
    }

    private JobListener metricsListener(Job job, Consumer<String> note) {
        try {
            return listeners.create(job, store.jobDir(job.getId()));
        } catch (IOException | RuntimeException e) {
            log.warn("job {}: no metrics files: {}", job.getId(), e.toString());
            note.accept("no metrics files for this job (" + e.getMessage() + "); training goes on");
            return new JobListener() { };
        }
    }

    private void onStep(String id, StepProgress step, int workers) {
        synchronized (lock) {
            Job job = jobs.get(id);
            jobs.put(id, job.toBuilder().setStepsDone(step.getStep()).setWorkers(workers).build());
            publish(id, JobEvent.newBuilder().setStep(step));
        }
    }

    private void onEpoch(String id, EpochMetrics epoch) {
        synchronized (lock) {
            Job job = jobs.get(id).toBuilder().addEpochs(epoch).setEpochsDone(epoch.getEpoch())
                    .setWorkers(epoch.getWorkers()).build();
            // the record holds every epoch so far: writing it after each one made a job of
            // thousands of short epochs rewrite megabytes per epoch, under this lock. At most
            // one write per interval while it runs (metrics.jsonl has every epoch at once); the
            // end of the job writes it whole
            long now = System.nanoTime();
            Long last = lastEpochRecord.get(id);
            if (last == null || now - last >= EPOCH_RECORD_INTERVAL_NANOS) {
                persist(job);
                lastEpochRecord.put(id, now);
            }
            jobs.put(id, job);
            publish(id, JobEvent.newBuilder().setEpoch(epoch));
        }
    }

    /**
     * Ends the running job {@code id}. One stopped by the queue's shutdown (not by a user's
     * cancel) ends FAILED with {@link JobStore#STOPPED}: its record then holds every epoch done
     * and the time it stopped, where a crash leaves it RUNNING, as last written, for the next
     * start to fail ({@link JobStore#RESTARTED}).
     */
    private void end(String id, JobState state, String reason, boolean model) {
        synchronized (lock) {
            Job job = jobs.get(id);
            if (job.getState() != JobState.RUNNING) {
                return; // ended already (a shutdown that gave up waiting, then the job's own end)
            }
            // stopped by the queue's shutdown (not by a user's cancel): at the step boundary, or
            // interrupted when it did not reach one in time
            boolean stopped = closed && !cancelRequested
                    && (state == JobState.CANCELLED || JobStore.STOPPED.equals(reason));
            if (stopped && requeueToResume(job)) {
                return;
            }
            if (stopped) {
                state = JobState.FAILED;
                reason = JobStore.STOPPED;
            }
            // a resumed job that fails keeps offering the model its cancel left (still in its folder)
            finish(job.toBuilder().setState(state).setReason(reason).setModelAvailable(model || job.getModelAvailable())
                    .setFinishedAtMs(System.currentTimeMillis()).build());
        }
    }

    /**
     * Leaves {@code job}, stopped with the coordinator, QUEUED to resume from its checkpoint when
     * the coordinator starts again; false (nothing changed) when it has no usable checkpoint.
     */
    private boolean requeueToResume(Job job) {
        Job queued;
        try {
            queued = store.resuming(job, "the coordinator was stopped while the job ran, after epoch "
                    + job.getEpochsDone()).orElse(null);
        } catch (IOException | RuntimeException e) {
            log.warn("job {}: its checkpoint cannot be read: {}", job.getId(), e.toString());
            return false;
        }
        if (queued == null) {
            return false;
        }
        lastEpochRecord.remove(job.getId());
        log.info("job {} QUEUED again: {}", job.getId(), queued.getLastNote());
        update(queued, stateEvent(JobState.QUEUED, queued.getLastNote()));
        return true;
    }

    // ---- under the lock -------------------------------------------------------------------------

    /**
     * Whether the next job must wait for a worker (none is live, and this queue holds jobs
     * then); the first time for a job, its record and watchers are told why it waits.
     */
    private boolean heldForWorkers() {
        if (!holdWithoutWorkers || !cluster.live().get().isEmpty()) {
            return false;
        }
        String next = pending.peekFirst();
        if (next != null && !next.equals(toldNoWorker)) {
            toldNoWorker = next;
            // a job queued to resume says so in its note: kept, not replaced
            String before = jobs.get(next).getLastNote();
            String why = "waiting for a worker to join: none is live; the job starts when one does"
                    + (before.contains("resumes from its checkpoint") ? " (" + before + ")" : "");
            log.info("job {}: {}", next, why);
            jobs.put(next, jobs.get(next).toBuilder().setLastNote(why).setLastNoteAtMs(System.currentTimeMillis()).build());
            publish(next, JobEvent.newBuilder().setNote(why));
        }
        return true;
    }

    /**
     * Ends {@code job} (its record says how): writes it, tells its watchers, and keeps its
     * checkpoint for {@link #resume} when it FAILED or was CANCELLED, or deletes it.
     */
    private void finish(Job ending) {
        lastEpochRecord.remove(ending.getId());
        Job job = keepingCheckpoint(ending);
        log.info("job {} {}{}{}", job.getId(), job.getState(), job.getReason().isEmpty() ? "" : ": " + job.getReason(),
                job.getCheckpointStep() > 0 ? " (its checkpoint after step " + job.getCheckpointStep() + " is kept)" : "");
        update(job, stateEvent(job.getState(), job.getReason()));
        publish(job.getId(), JobEvent.newBuilder().setFinished(job));
        sinks.remove(job.getId());
    }

    /**
     * {@code job} as it ends, its checkpoint's epoch in the record: a job that failed (its data
     * not there when it resumed after a restart, its workers all gone) or was cancelled keeps a
     * readable checkpoint, so that {@link #resume} goes on from it rather than from the first
     * epoch; a SUCCEEDED job's, or one that cannot be read, is deleted.
     */
    private Job keepingCheckpoint(Job job) {
        long step = 0;
        if (job.getState() != JobState.SUCCEEDED && job.hasSpec()) {
            step = store.keptCheckpointStep(job.getId());
        } else {
            store.deleteCheckpoint(job.getId());
        }
        return job.toBuilder().setCheckpointStep(step).build();
    }

    private void update(Job job, JobEvent.Builder event) {
        persist(job);
        jobs.put(job.getId(), job);
        publish(job.getId(), event);
    }

    private void persist(Job job) {
        try {
            store.save(job);
            unsaved.remove(job.getId());
        } catch (IOException e) {
            // the record in memory stays right; it is written again with the next record that
            // is (a full disk freed, a folder writable again), so that a restart reads the truth
            if (unsaved.add(job.getId())) {
                log.error("job {}: could not write its record (tried again with every later write): {}", job.getId(),
                        e.toString());
            }
            return;
        }
        retryUnsaved();
    }

    /** Writes the records that could not be written before; stops at the first that still fails. */
    private void retryUnsaved() {
        for (String id : List.copyOf(unsaved)) {
            Job job = jobs.get(id);
            if (job == null) {
                unsaved.remove(id);
                continue;
            }
            try {
                store.save(job);
                unsaved.remove(id);
                log.info("job {}: its record is written again", id);
            } catch (IOException e) {
                return;
            }
        }
    }

    private void publish(String id, JobEvent.Builder event) {
        List<EventSink> list = sinks.get(id);
        if (list == null || list.isEmpty()) {
            return;
        }
        JobEvent e = event.setJobId(id).build();
        for (EventSink s : List.copyOf(list)) {
            s.accept(e);
        }
    }

    private Job view(String id) {
        Job job = jobs.get(id);
        if (job == null || job.getState() != JobState.QUEUED) {
            return job;
        }
        int position = 0;
        for (String p : pending) {
            if (p.equals(id)) {
                break;
            }
            position++;
        }
        return job.toBuilder().setQueuePosition(position).build();
    }

    private static JobEvent.Builder stateEvent(JobState state, String reason) {
        return JobEvent.newBuilder().setState(StateChange.newBuilder().setState(state).setReason(reason));
    }

    static boolean ended(JobState s) {
        return s == JobState.SUCCEEDED || s == JobState.FAILED || s == JobState.CANCELLED;
    }
}
