package io.parallax.coordinator;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Props;
import io.parallax.coordinator.JobListener.EpochReport;
import io.parallax.coordinator.JobListener.StepReport;
import io.parallax.coordinator.JobWorkers.Participant;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.concurrent.RangeRunner;
import io.parallax.engine.layer.BatchNorm1d;
import io.parallax.engine.layer.Layer;
import io.parallax.engine.loss.Loss;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.schedule.LearningRateSchedule;
import io.parallax.engine.train.EpochOrder;
import io.parallax.engine.train.TrainingPosition;
import io.parallax.worker.WorkerActor;
import io.parallax.worker.job.JobPlan;
import io.parallax.worker.job.MemoryBudget;
import io.parallax.worker.plane.TensorExchange;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
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

    /** Floats per block of the gradient sum: 16 KiB of the sum stays in L1 across the workers. */
    private static final int SUM_BLOCK = 4096;
    /**
     * The most threads the serial part of a step (sum, optimizer, publication) is split over:
     * a few hundred thousand floats gain little from more.
     */
    private static final int MAX_UPDATE_THREADS = 4;
    /** Numbers each run's {@link GradientLossListener}: actor names must be unique in the system. */
    private static final AtomicLong LISTENERS = new AtomicLong();

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
    /** The job's workers; set by run(). */
    private JobWorkers workers;
    /** Splits the sum, the optimizer step and the publication over threads; set by run(). */
    private RangeRunner ranges = RangeRunner.serial();
    /** Told by workers of gradients lost after their acknowledgement; set by run(). */
    private ActorRef<Object> gradientLossListener;
    private long redone;
    /** Where the run resumes from and leaves its epoch checkpoints; none unless set. */
    private JobCheckpoints checkpoints = JobCheckpoints.NONE;
    // written by any thread, read by the run's thread at step boundaries
    private volatile boolean cancelled;
    /** The model as a cancel left it: set by run()'s thread before it throws. */
    private Sequential cancelledModel;

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

    /**
     * Makes the run resume from {@code checkpoints}' checkpoint, if it has one, and save one after
     * the epochs it says are due. Call before {@link #run()}.
     */
    public void checkpoints(JobCheckpoints checkpoints) {
        this.checkpoints = java.util.Objects.requireNonNull(checkpoints, "checkpoints");
    }

    /**
     * After {@link #run()} threw {@link JobCancelledException}: the model with the weights and
     * running statistics of the last step taken (the checkpoint's, for a run that resumed and took
     * none); empty when the run was cancelled before its first step.
     */
    public Optional<Sequential> modelAtCancel() {
        return Optional.ofNullable(cancelledModel);
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
        JobCheckpoints.Resumed resumed = checkpoints.restore(master, optimizer).orElse(null);
        if (resumed != null) {
            refuseAnotherRun(resumed);
        }
        // batch norm counts its steps on from what the model came with (an init_from file's count;
        // a checkpoint's holds the steps before it as well), as PyTorch's does
        long stepsBefore = resumed == null ? 0 : resumed.position().globalStep();
        long[] trackedBefore = master.layers().stream().filter(l -> l instanceof BatchNorm1d)
                .mapToLong(l -> ((BatchNorm1d) l).numBatchesTracked() - stepsBefore).toArray();
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
            workers = new JobWorkers(jobId, jobJson, plan.workers(), system, live, settings, listener,
                    gradientLossListener.narrow(), this::checkCancelled);
            return train(master, optimizer, schedule, params, buffers, states, resumed, trackedBefore);
        } finally {
            ranges.close();
            if (gradientLossListener != null) {
                gradientLossListener.tell(GradientLossListener.Stop.STOP);
            }
        }
    }

    private Result train(Sequential master, Optimizer optimizer, LearningRateSchedule schedule, float[] params,
            float[] buffers, float[][] states, JobCheckpoints.Resumed resumed, long[] trackedBefore)
            throws JobFailedException, InterruptedException {
        int p = params.length;
        int q = buffers.length;
        long version = 0;
        publish(version, states[0], params, buffers);
        int firstEpoch = resumed == null ? 0 : resumed.position().epoch();
        long steps = resumed == null ? 0 : resumed.position().globalStep();
        double elapsedBefore = resumed == null ? 0 : resumed.elapsedSeconds();
        long start = System.nanoTime();
        List<EpochReport> reports = new ArrayList<>();
        // where the run stands between two steps, for a checkpoint where it stops
        int epoch = firstEpoch;
        long stepInEpoch = resumed == null ? 0 : resumed.position().stepInEpoch();
        double lossSum = resumed == null ? 0 : resumed.epochSoFar().lossSum();
        double trainSecondsBefore = resumed == null ? 0 : resumed.epochSoFar().trainSeconds();
        long epochStart = start;
        long checkpointed = steps;
        // the parameters are whole steps' only outside the update
        boolean updating = false;
        try {
            if (resumed == null) {
                // said at the run's first start; a resumption's plan is built without its
                // init_from (the checkpoint holds every weight), and would misreport it
                plan.startNotes().forEach(listener::onEvent);
            }
            workers.prepare(steps);
            int rowsTotal = plan.train().rows();
            int batch = plan.batchSize();
            float[] gradient = new float[p];
            for (; epoch < plan.epochs(); epoch++) {
                int[] order = EpochOrder.of(rowsTotal, plan.seed(), epoch, true);
                epochStart = System.nanoTime();
                SentStep ahead = null;
                for (long from = stepInEpoch * batch; from < rowsTotal; from += batch) {
                    checkCancelled(steps);
                    long stepStart = System.nanoTime();
                    int[] rows = ahead != null ? ahead.rows() : batchRows(order, (int) from, batch);
                    int n = rows.length;
                    if (schedule != null) {
                        long t = plan.granularity() == LearningRateSchedule.Granularity.STEP ? steps : epoch;
                        optimizer.setLearningRate(schedule.learningRate(t), schedule.unscaledPart(t));
                    }
                    if (ahead == null) {
                        workers.takeOnJoined(steps);
                    }
                    StepOutcome outcome = computeStep(steps, version, epoch, rows, ahead);
                    // the sum, the optimizer and the publication follow back to back: the helper
                    // threads that split them wake now, while the next commands go out
                    ranges.wake();
                    // the next step's rows are known: send its commands now, at the version this
                    // step will publish, so that they travel (and the workers wake) while the
                    // gradients are summed and the optimizer runs. Within the epoch only: the
                    // evaluation comes between epochs
                    long next = from + batch;
                    if (next < rowsTotal) {
                        workers.takeOnJoined(steps + 1);
                    }
                    ahead = next < rowsTotal && !cancelled
                            ? send(steps + 1, 0, version + 1, epoch, batchRows(order, (int) next, batch), workers.current())
                            : null;
                    long sumStart = System.nanoTime();
                    updating = true;
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
                    updating = false;
                    stepInEpoch++;
                    ranges.rest(); // the workers need the cores now
                    exchange.forgetStepsBefore(jobId, steps);
                    listener.onParameters(steps, params);
                    long updateEnd = System.nanoTime();
                    lossSum += outcome.lossSum();
                    listener.onStep(new StepReport(epoch, steps, outcome.workers(), outcome.attempts(),
                            outcome.lossSum() / meanDivisor(n), n, outcome.planeNanos(), outcome.planeBytes(),
                            updateEnd - stepStart, outcome.phases(updateStart - sumStart, updateEnd - updateStart)));
                    // an epoch longer than the checkpoint interval is checkpointed inside, too;
                    // the workers meanwhile compute the next step, sent above
                    if (next < rowsTotal && checkpoints.due(false)) {
                        checkpoint(master, optimizer, params, buffers, trackedBefore, epoch, stepInEpoch, steps,
                                elapsedBefore + (System.nanoTime() - start) / 1e9,
                                new JobCheckpoints.EpochSoFar(lossSum, trainSecondsBefore
                                        + (System.nanoTime() - epochStart) / 1e9));
                        checkpointed = steps;
                    }
                }
                double trainSeconds = trainSecondsBefore + (System.nanoTime() - epochStart) / 1e9;
                checkCancelled(steps);
                double[] eval = plan.validation().isPresent() ? evaluate(version, steps) : new double[] {Double.NaN, Double.NaN};
                EpochReport report = new EpochReport(epoch + 1, lossSum / meanDivisor(rowsTotal), eval[0], eval[1],
                        rowsTotal / trainSeconds, elapsedBefore + (System.nanoTime() - start) / 1e9,
                        optimizer.learningRate(), workers.current().size(), redone);
                reports.add(report);
                listener.onEpoch(report);
                stepInEpoch = 0;
                lossSum = 0;
                trainSecondsBefore = 0;
                if (epoch + 1 < plan.epochs() && checkpoints.due(true)) {
                    checkpoint(master, optimizer, params, buffers, trackedBefore, epoch + 1, 0, steps,
                            report.elapsedSeconds(), JobCheckpoints.EpochSoFar.NONE);
                    checkpointed = steps;
                }
            }
        } catch (JobFailedException e) { // a JobCancelledException too
            // cancelled, stopped with the coordinator, or left without workers: what was trained
            // since the last checkpoint is kept, for a restart or a resume to go on from. Not
            // after a failed update (the parameters may be half updated) or an interrupt
            if (!updating && steps > checkpointed && checkpoints.enabled()) {
                checkpoint(master, optimizer, params, buffers, trackedBefore, epoch, stepInEpoch, steps,
                        elapsedBefore + (System.nanoTime() - start) / 1e9,
                        new JobCheckpoints.EpochSoFar(lossSum, trainSecondsBefore
                                + (stepInEpoch == 0 ? 0 : (System.nanoTime() - epochStart) / 1e9)));
            }
            // a user who cancels a run that is good enough keeps what it has trained (the
            // checkpoint above put the same weights into master already, when it was taken)
            if (e instanceof JobCancelledException && !updating && steps > 0) {
                intoModel(master, params, buffers, trackedBefore, steps);
                cancelledModel = master;
            }
            throw e;
        } finally {
            // every worker asked to prepare the job, those dropped on the way too: a dropped
            // worker that is still alive would otherwise keep its replica (model, data, plane)
            if (workers != null) {
                workers.endJob();
            }
            exchange.endJob(jobId);
        }
        intoModel(master, params, buffers, trackedBefore, steps);
        return new Result(master, reports, steps, redone);
    }

    /** The data this run trains on, as its checkpoints record it. */
    private JobCheckpoints.TrainedOn trainedOn() {
        long digest = plan.train().digest();
        if (plan.validation().isPresent()) {
            digest = 31 * digest + plan.validation().get().digest();
        }
        return new JobCheckpoints.TrainedOn(digest, plan.train().rows());
    }

    /**
     * A checkpoint of a run with another seed, batch size or data is no place to go on from: its
     * position would name other rows and steps (an epoch that now has fewer steps than the one it
     * stopped in, say), and the run would end SUCCEEDED with weights no run would have had.
     */
    private void refuseAnotherRun(JobCheckpoints.Resumed resumed) throws JobFailedException {
        TrainingPosition at = resumed.position();
        String other = null;
        if (at.seed() != plan.seed()) {
            other = "seed " + at.seed() + " then, " + plan.seed() + " now";
        } else if (at.batchSize() != plan.batchSize()) {
            other = "batch size " + at.batchSize() + " then, " + plan.batchSize() + " now";
        } else if (resumed.data() != null && !resumed.data().equals(trainedOn())) {
            other = resumed.data().trainRows() != plan.train().rows()
                    ? "other data: " + resumed.data().trainRows() + " training rows then, " + plan.train().rows() + " now"
                    : "other data: as many training rows, other values (the files changed since)";
        }
        if (other != null) {
            throw new JobFailedException("its checkpoint was taken by a run with " + other + "; put the job and its "
                    + "data back as they were to go on from it, or train from the first epoch (trainer local: delete "
                    + "the --checkpoint file; a coordinator's job: submit its job file again)");
        }
    }

    /** Saves a checkpoint of the run's state after {@code steps} steps, at {@code epoch}'s step {@code stepInEpoch}. */
    private void checkpoint(Sequential master, Optimizer optimizer, float[] params, float[] buffers,
            long[] trackedBefore, int epoch, long stepInEpoch, long steps, double elapsedSeconds,
            JobCheckpoints.EpochSoFar soFar) {
        intoModel(master, params, buffers, trackedBefore, steps);
        checkpoints.save(master, optimizer, new TrainingPosition(epoch, stepInEpoch, steps, plan.seed(), plan.batchSize()),
                elapsedSeconds, soFar, trainedOn());
    }

    /**
     * Puts the run's weights and running statistics into {@code master}, and into each batch-norm
     * layer (in order) the count it tracks: its count before the run's first step plus {@code steps}.
     */
    private static void intoModel(Sequential master, float[] params, float[] buffers, long[] trackedBefore,
            long steps) {
        master.parameters().copyFrom(params);
        master.buffers().copyFrom(buffers);
        int k = 0;
        for (Layer layer : master.layers()) {
            if (layer instanceof BatchNorm1d bn) {
                bn.setNumBatchesTracked(trackedBefore[k++] + steps);
            }
        }
    }

    private void publish(long version, float[] state, float[] params, float[] buffers) {
        ranges.run(params.length, (part, from, to) -> System.arraycopy(params, from, state, from, to - from));
        System.arraycopy(buffers, 0, state, params.length, buffers.length);
        exchange.publishState(jobId, version, state);
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
            futures.add(workers.ask(ps.get(i).ref(), replyTo -> new WorkerActor.ComputeGradient(jobId, step, attempt, version,
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
                workers.ensureSome("step " + step, step);
                sentStep = send(step, attempt, version, epoch, rows, workers.current());
            }
            List<Participant> ps = sentStep.participants();
            List<CompletableFuture<WorkerActor.Reply>> futures = sentStep.answers();
            // commands sent ahead went out before the previous update: their wait counts from here
            long sent = sentStep == ahead ? System.nanoTime() : sentStep.sentNanos();
            long deadline = sentStep.sentNanos() + settings.stepTimeout().toNanos();
            List<Participant> failed = workers.waitAll(ps, futures, deadline);
            WorkerActor.WorkFailed fault = JobWorkers.jobFault(futures);
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
                failed = workers.waitAll(ps, vectors, deadline);
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
                workers.stepDone();
                return new StepOutcome(replies, ps, attempt + 1, loss, waited);
            }
            String planeFault = exchange.fault(jobId);
            if (planeFault != null) {
                // the coordinator's own side refused the vectors: no worker is at fault, and a redo would fail alike
                throw new JobFailedException("step " + step + " (epoch " + (epoch + 1) + "): " + planeFault);
            }
            workers.drop(failed, ps.size());
            redone++;
            listener.onEvent("step " + step + ": redoing without " + failed.stream().map(Participant::id).toList()
                    + (workers.lastError() == null ? "" : " (" + workers.lastError() + ")") + "; "
                    + workers.current().size() + " worker(s) left");
            workers.failIfNoneCanCome(failed, "step " + step);
        }
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
            workers.ensureSome("the evaluation after step " + steps, steps);
            List<Participant> ps = forRows(workers.current(), total);
            int[][] ranges = ShardPlan.ranges(total, ps.size());
            List<CompletableFuture<WorkerActor.Reply>> futures = new ArrayList<>();
            for (int i = 0; i < ps.size(); i++) {
                int from = ranges[i][0];
                int count = ranges[i][1];
                futures.add(workers.ask(ps.get(i).ref(), replyTo -> new WorkerActor.Evaluate(jobId, version, from, count, replyTo),
                        settings.stepTimeout()));
            }
            List<Participant> failed = workers.waitAll(ps, futures, System.nanoTime() + settings.stepTimeout().toNanos());
            WorkerActor.WorkFailed fault = JobWorkers.jobFault(futures);
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
            String planeFault = exchange.fault(jobId);
            if (planeFault != null) {
                throw new JobFailedException("the evaluation after step " + steps + ": " + planeFault);
            }
            workers.drop(failed, ps.size());
            listener.onEvent("evaluation: redoing without " + failed.stream().map(Participant::id).toList());
            workers.failIfNoneCanCome(failed, "the evaluation after step " + steps);
        }
    }
}
