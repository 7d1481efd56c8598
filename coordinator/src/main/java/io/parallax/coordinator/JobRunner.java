package io.parallax.coordinator;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.AskPattern;
import io.parallax.coordinator.JobListener.EpochReport;
import io.parallax.coordinator.JobListener.StepReport;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.concurrent.RangeRunner;
import io.parallax.engine.layer.BatchNorm1d;
import io.parallax.engine.layer.Layer;
import io.parallax.engine.loss.Loss;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.schedule.LearningRateSchedule;
import io.parallax.engine.train.EpochOrder;
import io.parallax.worker.WorkerActor;
import io.parallax.worker.job.JobPlan;
import io.parallax.worker.job.MemoryBudget;
import io.parallax.worker.plane.TensorExchange;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs one job synchronously data-parallel: for every global mini-batch it splits the rows over
 * the live workers, waits for each worker's gradient of the loss summed over its rows, adds them
 * in a fixed worker order (by worker id, whatever order they arrive in), divides as PyTorch's
 * mean reduction does (by the batch size; by batch size × outputs for the element-wise losses),
 * clips, applies the schedule and the optimizer to the master weights, averages the workers'
 * batch-norm running statistics, and publishes the next weight version. Evaluation on the
 * validation set is split the same way.
 *
 * <p>A worker that leaves the cluster, fails, or misses the step deadline is dropped and the
 * step is redone from the same weights with the remaining workers. When the last ones leave the
 * cluster (a stalled coordinator is split from all its workers at once, and they rejoin seconds
 * later), the job waits for workers to join and redoes the step with them; it fails when none
 * joins, when the last ones failed or missed the deadline while still members, or at once when
 * a worker reports a fault of the job's own computation (a diverged model), which every worker
 * would hit. Workers that join while the job runs are taken on once they have prepared it, up
 * to the job's worker count. Runs on the caller's thread (never an Akka dispatcher).
 *
 * <p>{@link #cancel()} may be called from any thread: the run stops cooperatively before its next
 * step (or evaluation, or while still waiting for workers), tells the workers to end the job and
 * throws {@link JobCancelledException}. A step in flight is finished, never torn.
 */
public final class JobRunner {

    /**
     * @param stepTimeout  a step (or evaluation) not finished by then is redone without the late workers
     * @param workerWait   how long to wait for the job's workers to appear and prepare
     * @param planeHost    the tensor plane's host as workers should dial it (ignored in process)
     * @param planePort    its port
     */
    public record Settings(Duration stepTimeout, Duration workerWait, String planeHost, int planePort) {}

    /** The trained master model (parameters and running statistics) and the epoch reports. */
    public record Result(Sequential model, List<EpochReport> epochs, long steps, long redoneSteps) {}

    /** How often a wait for workers' answers looks whether a participant has left the cluster. */
    private static final long MEMBERSHIP_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** How long the live workers must stay unchanged before a job that takes them all starts. */
    private static final long SETTLE_MILLIS = 2000;

    /** Floats per block of the gradient sum: 16 KiB of the sum stays in L1 across the workers. */
    private static final int SUM_BLOCK = 4096;
    /**
     * The most threads the serial part of a step (sum, optimizer, publication) is split over:
     * a few hundred thousand floats gain little from more.
     */
    private static final int MAX_UPDATE_THREADS = 4;
    /** Waits for new workers in a row, no step done in between, before a job with none left fails. */
    private static final int MAX_RECOVERIES = 3;
    /** Numbers each run's {@link GradientLossListener}: actor names must be unique in the system. */
    private static final AtomicLong LISTENERS = new AtomicLong();

    private record Participant(ActorRef<WorkerActor.Command> ref, String id) {}

    private final String jobId;
    private final String jobJson;
    private final JobPlan plan;
    private final ActorSystem<?> system;
    private final WorkerRegistry.LiveWorkers live;
    private final TensorExchange exchange;
    private final Settings settings;
    private final JobListener listener;
    /** The workers' loss (summed over their rows): what the mean of a batch divides by. */
    private final Loss summedLoss;
    /** The model's output width, set when the run builds its model. */
    private long outputWidth;
    /**
     * The fewest rows a worker is given in a step: 2 when the model has batch norm, whose
     * training statistics need at least two rows (a short last batch goes to fewer workers).
     */
    private int minStepRows = 1;
    private List<Participant> participants = new ArrayList<>();
    /** Every worker that has prepared the job, in the order they did: each is sent EndJob at the end. */
    private final List<Participant> prepared = new ArrayList<>();
    /** Workers that joined while the job runs, asked to prepare it; taken on once they have. */
    private final Map<ActorRef<WorkerActor.Command>, CompletableFuture<WorkerActor.Reply>> joining =
            new LinkedHashMap<>();
    /** Workers dropped for failing while still members: never asked again by this job. */
    private final Set<ActorRef<WorkerActor.Command>> failedMembers = new HashSet<>();
    /** The live listing last looked through for workers to take on (compared by identity). */
    private List<ActorRef<WorkerActor.Command>> liveSeen = List.of();
    /** A place opened with the listing unchanged (a member failed, too few prepared): look again. */
    private boolean relook;
    /** Splits the sum, the optimizer step and the publication over threads; set by run(). */
    private RangeRunner ranges = RangeRunner.serial();
    /** Told by workers of gradients lost after their acknowledgement; set by run(). */
    private ActorRef<Object> gradientLossListener;
    private String lastWorkerError;
    /** Whether the workers lost last went all at once (a stalled coordinator or network, typically). */
    private boolean lostAllAtOnce;
    /** Waits for new workers since the last step done (see {@link #awaitNewWorkers}). */
    private int recoveries;
    private long redone;
    // written by any thread, read by the run's thread at step boundaries
    private volatile boolean cancelled;

    public JobRunner(String jobId, String jobJson, JobPlan plan, ActorSystem<?> system, WorkerRegistry.LiveWorkers live,
                     TensorExchange exchange, Settings settings, JobListener listener) {
        this.jobId = jobId;
        this.jobJson = jobJson;
        this.plan = plan;
        this.system = system;
        this.live = live;
        this.exchange = exchange;
        this.settings = settings;
        this.listener = listener == null ? new JobListener() { } : listener;
        this.summedLoss = plan.loss(Loss.Reduction.SUM);
    }

    /**
     * Asks the run to stop after its current step; returns at once. The run then throws
     * {@link JobCancelledException}. Calling it before {@link #run()} makes the run stop before
     * its first step.
     */
    public void cancel() {
        cancelled = true;
    }

    /** Whether {@link #cancel()} has been called. */
    public boolean isCancelled() {
        return cancelled;
    }

    private void checkCancelled(long steps) throws JobCancelledException {
        if (cancelled) {
            throw new JobCancelledException("cancelled after " + steps + " step(s)");
        }
    }

    /**
     * Trains the job to the end; blocks.
     *
     * @throws JobCancelledException if {@link #cancel()} stopped it
     */
    public Result run() throws JobFailedException, InterruptedException {
        MemoryBudget.require(plan, 0, true, Math.max(1, plan.workers()));
        Sequential master = plan.buildModel(Backends.cpu());
        outputWidth = master.outputFeatures();
        minStepRows = master.layers().stream().anyMatch(l -> l instanceof BatchNorm1d) ? 2 : 1;
        Optimizer optimizer = plan.optimizer(master);
        LearningRateSchedule schedule = plan.schedule();
        int p = Math.toIntExact(master.parameters().size());
        int q = Math.toIntExact(master.buffers().size());
        float[] params = master.parameters().toArray();
        float[] buffers = master.buffers().toArray();
        float[][] states = {new float[p + q], new float[p + q]};
        // a small model's passes run on this thread alone: no helper threads for it
        int threads = p < RangeRunner.MIN_PARALLEL ? 1
                : Math.min(Runtime.getRuntime().availableProcessors(), MAX_UPDATE_THREADS);
        ranges = RangeRunner.of(threads, "parallax-update-" + jobId);
        try {
            gradientLossListener = system.systemActorOf(GradientLossListener.create(jobId, exchange),
                    "gradient-loss-" + LISTENERS.incrementAndGet(), Props.empty());
            return train(master, optimizer, schedule, params, buffers, states);
        } finally {
            ranges.close();
            if (gradientLossListener != null) {
                gradientLossListener.tell(GradientLossListener.Stop.STOP);
            }
        }
    }

    private Result train(Sequential master, Optimizer optimizer, LearningRateSchedule schedule, float[] params,
            float[] buffers, float[][] states) throws JobFailedException, InterruptedException {
        int p = params.length;
        int q = buffers.length;
        long version = 0;
        publish(version, states[0], params, buffers);
        long start = System.nanoTime();
        long steps = 0;
        List<EpochReport> reports = new ArrayList<>();
        try {
            plan.initFromNotes().forEach(listener::onEvent);
            prepareWorkers(0);
            int rowsTotal = plan.train().rows();
            int batch = plan.batchSize();
            float[] gradient = new float[p];
            for (int epoch = 0; epoch < plan.epochs(); epoch++) {
                int[] order = EpochOrder.of(rowsTotal, plan.seed(), epoch, true);
                double lossSum = 0;
                long epochStart = System.nanoTime();
                SentStep ahead = null;
                for (int from = 0; from < rowsTotal; from += batch) {
                    checkCancelled(steps);
                    long stepStart = System.nanoTime();
                    int[] rows = ahead != null ? ahead.rows() : batchRows(order, from, batch);
                    int n = rows.length;
                    if (schedule != null) {
                        long t = plan.granularity() == LearningRateSchedule.Granularity.STEP ? steps : epoch;
                        optimizer.setLearningRate(schedule.learningRate(t), schedule.unscaledPart(t));
                    }
                    if (ahead == null) {
                        takeOnJoinedWorkers(steps);
                    }
                    StepOutcome outcome = computeStep(steps, version, epoch, rows, ahead);
                    // the sum, the optimizer and the publication follow back to back: the helper
                    // threads that split them wake now, while the next commands go out
                    ranges.wake();
                    // the next step's rows are known: send its commands now, at the version this
                    // step will publish, so that they travel (and the workers wake) while the
                    // gradients are summed and the optimizer runs. Within the epoch only: the
                    // evaluation comes between epochs
                    int next = from + batch;
                    if (next < rowsTotal) {
                        takeOnJoinedWorkers(steps + 1);
                    }
                    ahead = next < rowsTotal && !cancelled
                            ? send(steps + 1, 0, version + 1, epoch, batchRows(order, next, batch), participants)
                            : null;
                    long sumStart = System.nanoTime();
                    sumGradients(outcome, steps, gradient, buffers, p, q, 1f / meanDivisor(n));
                    long updateStart = System.nanoTime();
                    try {
                        plan.clipping().apply(gradient);
                        optimizer.step(params, gradient, ranges);
                    } catch (ArithmeticException e) {
                        throw new JobFailedException("step " + steps + " (epoch " + (epoch + 1) + "): " + e.getMessage(), e);
                    }
                    steps++;
                    version++;
                    publish(version, states[(int) (version & 1)], params, buffers);
                    ranges.rest(); // the workers need the cores now
                    exchange.forgetStepsBefore(jobId, steps);
                    listener.onParameters(steps, params);
                    long updateEnd = System.nanoTime();
                    lossSum += outcome.lossSum();
                    listener.onStep(new StepReport(epoch, steps, outcome.workers(), outcome.attempts(),
                            outcome.lossSum() / meanDivisor(n), n, outcome.planeNanos(), outcome.planeBytes(),
                            updateEnd - stepStart, outcome.phases(updateStart - sumStart, updateEnd - updateStart)));
                }
                double trainSeconds = (System.nanoTime() - epochStart) / 1e9;
                checkCancelled(steps);
                double[] eval = plan.validation().isPresent() ? evaluate(version, steps) : new double[] {Double.NaN, Double.NaN};
                EpochReport report = new EpochReport(epoch + 1, lossSum / meanDivisor(rowsTotal), eval[0], eval[1],
                        rowsTotal / trainSeconds, (System.nanoTime() - start) / 1e9, optimizer.learningRate(),
                        participants.size(), redone);
                reports.add(report);
                listener.onEpoch(report);
            }
        } finally {
            // every worker that prepared the job, those dropped on the way too: a dropped worker
            // that is still alive would otherwise keep its replica (model, data, plane) for good
            for (Participant w : prepared) {
                w.ref().tell(new WorkerActor.EndJob(jobId));
            }
            joining.keySet().forEach(ref -> ref.tell(new WorkerActor.EndJob(jobId)));
            exchange.endJob(jobId);
        }
        master.parameters().copyFrom(params);
        master.buffers().copyFrom(buffers);
        for (Layer layer : master.layers()) {
            if (layer instanceof BatchNorm1d bn) {
                bn.setNumBatchesTracked(steps);
            }
        }
        return new Result(master, reports, steps, redone);
    }

    private void publish(long version, float[] state, float[] params, float[] buffers) {
        ranges.run(params.length, (part, from, to) -> System.arraycopy(params, from, state, from, to - from));
        System.arraycopy(buffers, 0, state, params.length, buffers.length);
        exchange.publishState(jobId, version, state);
    }

    // ---- workers --------------------------------------------------------------------------

    /**
     * Waits (up to the worker wait) for the job's workers to be live and has them prepare the
     * job; they become the participants. {@code steps}: the steps done so far (for a
     * cancellation's message).
     */
    private void prepareWorkers(long steps) throws JobFailedException, InterruptedException {
        int wanted = plan.workers();
        // wait in slices so that a cancellation does not sit out the whole worker wait
        long deadline = System.nanoTime() + settings.workerWait().toNanos();
        List<ActorRef<WorkerActor.Command>> refs;
        boolean told = false;
        while (true) {
            checkCancelled(steps);
            long left = Math.max(0, (deadline - System.nanoTime()) / 1_000_000);
            refs = live.await(Math.max(1, wanted), Math.min(left, 200));
            if (refs.size() >= Math.max(1, wanted) || left <= 200) {
                break;
            }
            if (!told) {
                // a job that waits says so: without this a watcher saw RUNNING, epoch 0, for minutes
                told = true;
                listener.onEvent("waiting up to " + settings.workerWait().toSeconds() + " s for " + Math.max(1, wanted)
                        + " worker(s); " + refs.size() + " live");
            }
        }
        if (refs.isEmpty()) {
            throw new JobFailedException("no worker joined within " + settings.workerWait().toSeconds() + " s");
        }
        if (wanted == 0) {
            // "every live worker": if workers are still joining (a coordinator just restarted,
            // its workers rejoining one by one) let them settle first, or the job would start
            // with the first and take on the others only later
            long left = Math.max(0, (deadline - System.nanoTime()) / 1_000_000);
            refs = live.awaitSettled(SETTLE_MILLIS, Math.min(left, 10 * SETTLE_MILLIS));
            if (refs.isEmpty()) {
                throw new JobFailedException("the workers left before the job could start");
            }
        }
        // a worker that failed as a member of this job is not asked again
        refs = refs.stream().filter(r -> !failedMembers.contains(r)).toList();
        if (refs.isEmpty()) {
            throw new JobFailedException("the only live workers are those that failed this job");
        }
        if (wanted > 0 && refs.size() < wanted) {
            listener.onEvent("only " + refs.size() + " of " + wanted + " workers joined; training with " + refs.size());
        }
        if (wanted > 0 && refs.size() > wanted) {
            refs = refs.subList(0, wanted);
        }
        liveSeen = live.get();
        List<CompletableFuture<WorkerActor.Reply>> replies = new ArrayList<>();
        for (ActorRef<WorkerActor.Command> ref : refs) {
            joining.remove(ref);
            replies.add(askToPrepare(ref));
        }
        Set<ActorRef<WorkerActor.Command>> alive = awaitAnswers(refs, replies,
                System.nanoTime() + settings.workerWait().toNanos(), steps);
        List<Participant> ready = new ArrayList<>();
        for (int i = 0; i < refs.size(); i++) {
            WorkerActor.Reply r = replies.get(i).isDone() && !replies.get(i).isCompletedExceptionally()
                    ? replies.get(i).getNow(null) : null;
            if (r instanceof WorkerActor.JobPrepared ok) {
                ready.add(new Participant(refs.get(i), ok.worker()));
            } else if (r instanceof WorkerActor.WorkFailed f) {
                lastWorkerError = f.message();
                listener.onEvent("worker " + f.worker() + " could not prepare the job: " + f.message());
            } else if (!alive.contains(refs.get(i))) {
                listener.onEvent("worker " + refs.get(i).path() + " left before it had prepared the job");
            } else {
                listener.onEvent("worker " + refs.get(i).path() + " did not answer the job's preparation in time");
            }
            if (!(r instanceof WorkerActor.JobPrepared)) {
                // it may finish preparing yet (back from a pause, or just slow): it is not told of the
                // job's end otherwise, and would keep its replica for good
                refs.get(i).tell(new WorkerActor.EndJob(jobId));
                if (alive.contains(refs.get(i))) {
                    failedMembers.add(refs.get(i));
                }
            }
        }
        if (ready.isEmpty()) {
            throw new JobFailedException("no worker could prepare the job"
                    + (lastWorkerError == null ? "" : ": " + lastWorkerError));
        }
        ready.sort(Comparator.comparing(Participant::id));
        participants = ready;
        prepared.addAll(ready);
        relook = wanted > 0 && ready.size() < wanted;
    }

    private record StepOutcome(List<WorkerActor.GradientComputed> replies, List<Participant> participants,
                               int attempts, double lossSum, long waitNanos) {
        int workers() {
            return participants.size();
        }

        long planeNanos() {
            return replies.stream().mapToLong(WorkerActor.GradientComputed::planeNanos).sum();
        }

        long planeBytes() {
            return replies.stream().mapToLong(WorkerActor.GradientComputed::planeBytes).sum();
        }

        JobListener.StepPhases phases(long sumNanos, long updateNanos) {
            return new JobListener.StepPhases(waitNanos, sumNanos, updateNanos,
                    replies.stream().mapToLong(WorkerActor.GradientComputed::fetchNanos).sum(),
                    replies.stream().mapToLong(WorkerActor.GradientComputed::computeNanos).sum(),
                    replies.stream().mapToLong(WorkerActor.GradientComputed::pushNanos).sum());
        }
    }

    /** The rows of the global batch that starts at {@code from} in the epoch's order (the last one may be short). */
    private static int[] batchRows(int[] order, int from, int batch) {
        return java.util.Arrays.copyOfRange(order, from, Math.min(order.length, from + batch));
    }

    /** A step's commands, sent: to whom, which rows, and the answers to come. */
    private record SentStep(long step, List<Participant> participants, int[] rows,
                            List<CompletableFuture<WorkerActor.Reply>> answers, long sentNanos) {}

    /**
     * The first {@code rows} of {@code ps} (all of them if there are enough rows), as an
     * unmodifiable list: a batch or validation set of fewer rows than workers (batch size 1, an
     * epoch's last few rows) leaves the rest out — they sit that step or evaluation out, and its
     * batch-norm average, instead of working on nothing.
     */
    private static List<Participant> forRows(List<Participant> ps, int rows) {
        return forRows(ps, rows, 1);
    }

    /** As many of {@code ps} as {@code rows} can give {@code minRows} each (at least one). */
    private static List<Participant> forRows(List<Participant> ps, int rows, int minRows) {
        int n = Math.max(1, Math.min(ps.size(), rows / minRows));
        return List.copyOf(ps.subList(0, n));
    }

    /**
     * Sends attempt {@code attempt} of step {@code step} (at weight version {@code version}) to a
     * snapshot of {@code ps}, as many of them as the rows can keep busy.
     */
    private SentStep send(long step, int attempt, long version, int epoch, int[] rows, List<Participant> ps) {
        long sent = System.nanoTime();
        ps = forRows(ps, rows.length, minStepRows);
        int[][] shards = ShardPlan.split(rows, ps.size());
        List<CompletableFuture<WorkerActor.Reply>> futures = new ArrayList<>();
        for (int i = 0; i < ps.size(); i++) {
            int[] shard = shards[i];
            futures.add(ask(ps.get(i).ref(), replyTo -> new WorkerActor.ComputeGradient(jobId, step, attempt, version,
                    epoch, shard, replyTo), settings.stepTimeout()));
        }
        return new SentStep(step, ps, rows, futures, sent);
    }

    /**
     * Runs step {@code step} to an outcome, redoing it without workers that fail. {@code ahead}
     * is its first attempt if already sent (null otherwise): a worker that left since is noticed
     * by the wait, and the step is redone without it as if it had left during the step.
     */
    private StepOutcome computeStep(long step, long version, int epoch, int[] rows, SentStep ahead)
            throws JobFailedException, InterruptedException {
        for (int attempt = 0; ; attempt++) {
            SentStep sentStep;
            if (attempt == 0 && ahead != null && ahead.step() == step) {
                sentStep = ahead;
            } else {
                dropLostWorkers();
                if (participants.isEmpty()) {
                    awaitNewWorkers("step " + step, step, lostAllAtOnce);
                }
                sentStep = send(step, attempt, version, epoch, rows, participants);
            }
            List<Participant> ps = sentStep.participants();
            List<CompletableFuture<WorkerActor.Reply>> futures = sentStep.answers();
            // commands sent ahead went out before the previous update: their wait counts from here
            long sent = sentStep == ahead ? System.nanoTime() : sentStep.sentNanos();
            long deadline = sentStep.sentNanos() + settings.stepTimeout().toNanos();
            List<Participant> failed = waitAll(ps, futures, deadline);
            WorkerActor.WorkFailed fault = jobFault(futures);
            if (fault != null) {
                throw new JobFailedException("step " + step + " (epoch " + (epoch + 1) + "), on worker "
                        + fault.worker() + ": " + fault.message());
            }
            if (failed.isEmpty()) {
                // a worker acknowledges as soon as its gradient is on its way: wait for the vectors
                List<CompletableFuture<?>> vectors = new ArrayList<>();
                for (Participant w : ps) {
                    vectors.add(exchange.awaitGradient(jobId, step, attempt, w.id()));
                }
                failed = waitAll(ps, vectors, deadline);
            }
            if (failed.isEmpty()) {
                long waited = System.nanoTime() - sent;
                List<WorkerActor.GradientComputed> replies = new ArrayList<>();
                double loss = 0;
                for (CompletableFuture<WorkerActor.Reply> f : futures) {
                    WorkerActor.GradientComputed g = (WorkerActor.GradientComputed) f.getNow(null);
                    replies.add(g);
                    loss += g.lossSum();
                }
                recoveries = 0;
                lostAllAtOnce = false;
                return new StepOutcome(replies, ps, attempt + 1, loss, waited);
            }
            participants.removeAll(failed);
            rememberFailedMembers(failed);
            redone++;
            lostAllAtOnce = failed.size() > 1 && failed.size() == ps.size();
            listener.onEvent("step " + step + ": redoing without " + failed.stream().map(Participant::id).toList()
                    + (lastWorkerError == null ? "" : " (" + lastWorkerError + ")") + "; " + participants.size()
                    + " worker(s) left");
            if (participants.isEmpty() && !allLeft(failed)) {
                // the last workers failed or missed the deadline while still members: new ones
                // would not fare better, and re-preparing these would only repeat it
                throw new JobFailedException(noWorkersLeft("step " + step, lostAllAtOnce));
            }
        }
    }

    /** Those of {@code ws} still members: they failed rather than left, and are not asked again. */
    private void rememberFailedMembers(List<Participant> ws) {
        Set<ActorRef<WorkerActor.Command>> alive = Set.copyOf(live.get());
        ws.stream().map(Participant::ref).filter(alive::contains).forEach(failedMembers::add);
        relook = true;
    }

    /**
     * Between steps: takes on the workers that joined while the job runs and have prepared it
     * since (as many as the job wants; all of them for "every live worker"), and asks those that
     * joined since the last look to prepare it, so that a worker restarted after a crash, or a
     * node added, works on the job again without holding it up while it loads the data. A worker
     * that failed as a member of this job is not asked again. {@code step}: the step about to be
     * sent, for the event.
     */
    private void takeOnJoinedWorkers(long step) {
        List<ActorRef<WorkerActor.Command>> liveNow = live.get();
        if (liveNow == liveSeen && joining.isEmpty() && !relook) {
            return; // the common case: nothing changed, nothing pending
        }
        int wanted = plan.workers();
        Set<ActorRef<WorkerActor.Command>> alive = Set.copyOf(liveNow);
        Set<ActorRef<WorkerActor.Command>> members = new HashSet<>();
        participants.forEach(w -> members.add(w.ref()));
        List<Participant> added = new ArrayList<>();
        for (Iterator<Map.Entry<ActorRef<WorkerActor.Command>, CompletableFuture<WorkerActor.Reply>>> it =
                joining.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<ActorRef<WorkerActor.Command>, CompletableFuture<WorkerActor.Reply>> e = it.next();
            ActorRef<WorkerActor.Command> ref = e.getKey();
            CompletableFuture<WorkerActor.Reply> f = e.getValue();
            if (!f.isDone() && alive.contains(ref)) {
                continue;
            }
            it.remove();
            WorkerActor.Reply r = f.isDone() && !f.isCompletedExceptionally() ? f.getNow(null) : null;
            boolean room = wanted == 0 || participants.size() + added.size() < wanted;
            if (r instanceof WorkerActor.JobPrepared ok && alive.contains(ref) && !members.contains(ref) && room) {
                added.add(new Participant(ref, ok.worker()));
                continue;
            }
            if (r instanceof WorkerActor.WorkFailed wf) {
                listener.onEvent("worker " + wf.worker() + " could not prepare the job: " + wf.message());
            }
            if (!members.contains(ref)) {
                ref.tell(new WorkerActor.EndJob(jobId));
                if (alive.contains(ref) && !(r instanceof WorkerActor.JobPrepared)) {
                    failedMembers.add(ref);
                }
            }
        }
        if (!added.isEmpty()) {
            participants.addAll(added);
            participants.sort(Comparator.comparing(Participant::id));
            prepared.addAll(added);
            listener.onEvent("step " + step + ": taking on " + added.stream().map(Participant::id).toList() + "; "
                    + participants.size() + " worker(s)");
        }
        if (liveNow != liveSeen || relook) {
            liveSeen = liveNow;
            relook = false;
            members.clear();
            participants.forEach(w -> members.add(w.ref()));
            int room = wanted == 0 ? Integer.MAX_VALUE : wanted - participants.size() - joining.size();
            for (ActorRef<WorkerActor.Command> ref : liveNow) {
                if (room <= 0) {
                    break;
                }
                if (!members.contains(ref) && !joining.containsKey(ref) && !failedMembers.contains(ref)) {
                    joining.put(ref, askToPrepare(ref));
                    room--;
                }
            }
        }
    }

    private CompletableFuture<WorkerActor.Reply> askToPrepare(ActorRef<WorkerActor.Command> ref) {
        return ask(ref, replyTo -> new WorkerActor.PrepareJob(jobId, jobJson, settings.planeHost(), settings.planePort(),
                gradientLossListener.narrow(), replyTo), settings.workerWait());
    }

    /** Whether none of {@code ws} is a live member any more (they left, were downed, or are unreachable). */
    private boolean allLeft(List<Participant> ws) {
        Set<ActorRef<WorkerActor.Command>> alive = Set.copyOf(live.get());
        return ws.stream().noneMatch(w -> alive.contains(w.ref()));
    }

    /**
     * No worker is left for {@code what}: waits (up to the worker wait) for workers to join —
     * typically the same ones, rejoining seconds after the coordinator or the network stalled,
     * which downs a whole side of the cluster at once — and has them prepare the job, so that
     * the step is redone from the same weights instead of the job failing. Gives up after
     * {@link #MAX_RECOVERIES} such waits in a row with no step done in between (workers that
     * join only to fail again).
     */
    private void awaitNewWorkers(String what, long steps, boolean allAtOnce)
            throws JobFailedException, InterruptedException {
        String lost = noWorkersLeft(what, allAtOnce);
        if (recoveries >= MAX_RECOVERIES) {
            throw new JobFailedException(lost + "; the workers that joined since were lost too, " + recoveries
                    + " times in a row");
        }
        recoveries++;
        listener.onEvent(what + ": no workers left; waiting up to " + settings.workerWait().toSeconds()
                + " s for workers to join");
        // workers lost together come back together, and their old selves may still flicker in
        // the listing for a few seconds: let the membership settle before picking workers
        live.awaitSettled(SETTLE_MILLIS, Math.min(settings.workerWait().toMillis(), 3 * SETTLE_MILLIS));
        try {
            prepareWorkers(steps);
        } catch (JobCancelledException e) {
            throw e;
        } catch (JobFailedException e) {
            throw new JobFailedException(lost + "; " + e.getMessage(), e);
        }
        listener.onEvent(what + ": going on with " + participants.stream().map(Participant::id).toList());
    }

    /** Why a job has no worker left for {@code what} ("step 12", "evaluation"). */
    private String noWorkersLeft(String what, boolean allAtOnce) {
        StringBuilder why = new StringBuilder("no workers left at " + what);
        if (allAtOnce) {
            // seen when the coordinator stalled (a long GC pause, a stopped process): the workers
            // split from it together, and rejoin seconds after it resumes
            why.append(": every worker was lost at once (the workers or this coordinator stalled or were cut"
                    + " off)");
        }
        if (lastWorkerError != null) {
            why.append("; last worker error: ").append(lastWorkerError);
        }
        return why.toString();
    }

    /**
     * What the summed loss and gradient of {@code rows} rows divide by to give PyTorch's mean:
     * the rows for cross-entropy, rows × outputs for the element-wise losses.
     */
    private long meanDivisor(long rows) {
        return summedLoss.meanDivisor(rows, outputWidth);
    }

    /**
     * Adds the workers' gradients into {@code sum} in worker order and multiplies by {@code inv}
     * (1 / {@link #meanDivisor}) in the same pass as the last addition: (s + g) * inv rounds
     * exactly as a separate scaling pass would, so the result is bit-identical and the array is
     * walked once less.
     */
    private void sumGradients(StepOutcome outcome, long step, float[] sum, float[] buffers, int p, int q, float inv)
            throws JobFailedException {
        if (q > 0) {
            java.util.Arrays.fill(buffers, 0f);
        }
        int attempt = outcome.attempts() - 1;
        // fixed order (workers sorted by id): the sum does not depend on arrival order
        List<Participant> ws = outcome.participants();
        float[][] gs = new float[ws.size()][];
        for (int k = 0; k < ws.size(); k++) {
            Participant w = ws.get(k);
            float[] g = exchange.gradient(jobId, step, attempt, w.id());
            if (g == null || g.length != p + q) {
                throw new JobFailedException("worker " + w.id() + " acknowledged step " + step
                        + " but its gradient is not on the tensor plane");
            }
            gs[k] = g;
            for (int i = 0; i < q; i++) {
                buffers[i] += g[p + i];
            }
        }
        // each thread adds its part of every worker's vector, in worker order
        // (block by block, so that a block of the sum stays in cache across the workers)
        ranges.run(p, (part, from, to) -> {
            for (int c = from; c < to; c += SUM_BLOCK) {
                int end = Math.min(to, c + SUM_BLOCK);
                for (int k = 0; k < gs.length; k++) {
                    addTerm(sum, gs[k], c, end, k == 0, k == gs.length - 1, inv);
                }
            }
        });
        float share = 1f / outcome.workers();
        for (int i = 0; i < q; i++) {
            buffers[i] *= share;
        }
    }

    /**
     * Adds worker vector {@code g} into {@code sum} over {@code [from, to)}. The first worker's
     * term is written as 0 + g (not copied) so that -0 becomes +0 exactly as in a sum started from
     * zeros, without a pass that clears the array; one plain loop per case, so that each
     * vectorises.
     */
    private static void addTerm(float[] sum, float[] g, int from, int to, boolean first, boolean last, float inv) {
        if (first && last) {
            for (int i = from; i < to; i++) {
                sum[i] = (0f + g[i]) * inv;
            }
        } else if (first) {
            for (int i = from; i < to; i++) {
                sum[i] = 0f + g[i];
            }
        } else if (last) {
            for (int i = from; i < to; i++) {
                sum[i] = (sum[i] + g[i]) * inv;
            }
        } else {
            for (int i = from; i < to; i++) {
                sum[i] += g[i];
            }
        }
    }

    private double[] evaluate(long version, long steps) throws JobFailedException, InterruptedException {
        int total = plan.validation().orElseThrow().rows();
        while (true) {
            dropLostWorkers();
            if (participants.isEmpty()) {
                awaitNewWorkers("the evaluation after step " + steps, steps, lostAllAtOnce);
            }
            List<Participant> ps = forRows(participants, total);
            int[][] ranges = ShardPlan.ranges(total, ps.size());
            List<CompletableFuture<WorkerActor.Reply>> futures = new ArrayList<>();
            for (int i = 0; i < ps.size(); i++) {
                int from = ranges[i][0];
                int count = ranges[i][1];
                futures.add(ask(ps.get(i).ref(), replyTo -> new WorkerActor.Evaluate(jobId, version, from, count, replyTo),
                        settings.stepTimeout()));
            }
            List<Participant> failed = waitAll(ps, futures, System.nanoTime() + settings.stepTimeout().toNanos());
            WorkerActor.WorkFailed fault = jobFault(futures);
            if (fault != null) {
                throw new JobFailedException("evaluation at weight version " + version + ", on worker " + fault.worker()
                        + ": " + fault.message());
            }
            if (failed.isEmpty()) {
                double loss = 0;
                long correct = 0;
                for (CompletableFuture<WorkerActor.Reply> f : futures) {
                    WorkerActor.Evaluated e = (WorkerActor.Evaluated) f.getNow(null);
                    loss += e.lossSum();
                    correct += e.correct();
                }
                return new double[] {loss / meanDivisor(total), (double) correct / total};
            }
            participants.removeAll(failed);
            rememberFailedMembers(failed);
            lostAllAtOnce = failed.size() > 1 && failed.size() == ps.size();
            listener.onEvent("evaluation: redoing without " + failed.stream().map(Participant::id).toList());
            if (participants.isEmpty() && !allLeft(failed)) {
                throw new JobFailedException(noWorkersLeft("the evaluation after step " + steps, lostAllAtOnce));
            }
        }
    }

    /**
     * Waits until every future has an answer, a participant leaves the cluster, or the deadline
     * passes; returns the participants that failed: those that left, those whose answer is not a
     * good one (a reply other than {@link WorkerActor.WorkFailed}, or a vector from the tensor
     * plane), and, past the deadline, those with no answer yet.
     */
    private List<Participant> waitAll(List<Participant> ps, List<? extends CompletableFuture<?>> futures, long deadline)
            throws InterruptedException {
        // one wait on all of them: the thread wakes once, when the last answer comes, instead of
        // once per answer; the bound only paces the membership check. A latch, not Future.get:
        // a timed get that runs out throws, and filling in that exception's stack trace every
        // 10 ms of every step is measurable work on the coordinator's thread
        CompletableFuture<Void> all = CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0]));
        CountDownLatch answered = new CountDownLatch(1);
        all.whenComplete((ignored, failure) -> answered.countDown());
        while (true) {
            long left = deadline - System.nanoTime();
            if (!all.isDone() && left > 0) {
                answered.await(Math.min(left, MEMBERSHIP_CHECK_NANOS), TimeUnit.NANOSECONDS);
            }
            boolean allDone = all.isDone();
            Set<ActorRef<WorkerActor.Command>> alive = Set.copyOf(live.get());
            boolean someoneLeft = ps.stream().anyMatch(w -> !alive.contains(w.ref()));
            boolean pastDeadline = System.nanoTime() > deadline;
            // after a departure, a member still at work is waited for: it takes the redo only
            // after this attempt anyway, and the redo's deadline must not run while it finishes
            boolean memberBusy = false;
            for (int i = 0; i < ps.size(); i++) {
                memberBusy |= alive.contains(ps.get(i).ref()) && !futures.get(i).isDone();
            }
            if (allDone || pastDeadline || (someoneLeft && !memberBusy)) {
                List<Participant> failed = new ArrayList<>();
                for (int i = 0; i < ps.size(); i++) {
                    CompletableFuture<?> f = futures.get(i);
                    // a member with no answer yet has failed only past the deadline
                    if (!alive.contains(ps.get(i).ref()) || (f.isDone() ? !good(f) : pastDeadline)) {
                        failed.add(ps.get(i));
                    }
                }
                if (failed.isEmpty() && !allDone) {
                    continue;
                }
                return failed;
            }
        }
    }

    /**
     * Waits until each of {@code refs} has answered or has left the cluster, or the deadline
     * passes; returns the workers live at the end. Unlike {@link #waitAll}, a worker that leaves
     * does not end the wait for the others (a cluster that has just lost every worker sees the
     * old ones go while new ones prepare).
     */
    private Set<ActorRef<WorkerActor.Command>> awaitAnswers(List<ActorRef<WorkerActor.Command>> refs,
            List<CompletableFuture<WorkerActor.Reply>> answers, long deadline, long steps)
            throws InterruptedException, JobCancelledException {
        CountDownLatch answered = new CountDownLatch(1);
        CompletableFuture.allOf(answers.toArray(new CompletableFuture<?>[0]))
                .whenComplete((ignored, failure) -> answered.countDown());
        while (true) {
            Set<ActorRef<WorkerActor.Command>> alive = Set.copyOf(live.get());
            boolean waiting = false;
            for (int i = 0; i < refs.size(); i++) {
                waiting |= !answers.get(i).isDone() && alive.contains(refs.get(i));
            }
            long left = deadline - System.nanoTime();
            if (!waiting || left <= 0) {
                return alive;
            }
            checkCancelled(steps);
            answered.await(Math.min(left, MEMBERSHIP_CHECK_NANOS), TimeUnit.NANOSECONDS);
        }
    }

    /**
     * The first answer that reports a fault of the job itself (see {@link WorkerActor.WorkFailed}),
     * or null: redoing the work on other workers would fail the same way, so the job fails.
     */
    private static WorkerActor.WorkFailed jobFault(List<CompletableFuture<WorkerActor.Reply>> answers) {
        for (CompletableFuture<WorkerActor.Reply> f : answers) {
            if (f.isDone() && !f.isCompletedExceptionally() && f.getNow(null) instanceof WorkerActor.WorkFailed wf
                    && wf.jobFault()) {
                return wf;
            }
        }
        return null;
    }

    /** Whether a finished future holds a good answer; remembers a worker's reason for a bad one. */
    private boolean good(CompletableFuture<?> f) {
        if (!f.isDone() || f.isCancelled()) {
            return false;
        }
        if (f.isCompletedExceptionally()) {
            try {
                f.join();
            } catch (java.util.concurrent.CompletionException e) {
                lastWorkerError = e.getCause() == null ? e.toString() : e.getCause().getMessage();
            }
            return false;
        }
        Object r = f.getNow(null);
        if (r instanceof WorkerActor.WorkFailed wf) {
            lastWorkerError = wf.message();
            return false;
        }
        return r instanceof WorkerActor.GradientComputed || r instanceof WorkerActor.Evaluated || r instanceof float[];
    }

    private void dropLostWorkers() {
        Set<ActorRef<WorkerActor.Command>> alive = Set.copyOf(live.get());
        List<Participant> lost = participants.stream().filter(w -> !alive.contains(w.ref())).toList();
        if (!lost.isEmpty()) {
            if (lost.size() == participants.size()) {
                lostAllAtOnce = lost.size() > 1;
            }
            participants.removeAll(lost);
            listener.onEvent("worker(s) " + lost.stream().map(Participant::id).toList() + " left the cluster");
        }
    }

    private CompletableFuture<WorkerActor.Reply> ask(ActorRef<WorkerActor.Command> ref,
                                                     akka.japi.function.Function<ActorRef<WorkerActor.Reply>,
                                                             WorkerActor.Command> message, Duration timeout) {
        return AskPattern.ask(ref, message, timeout, system.scheduler()).toCompletableFuture();
    }
}
