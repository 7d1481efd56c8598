package io.parallax.coordinator;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import io.parallax.worker.WorkerActor;
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

/**
 * The workers of one running job: which take part (the participants, sorted by id: the order
 * gradients are summed in), having them prepare the job, waiting for their answers with an eye
 * on the cluster's membership, dropping those that leave or fail, waiting for new ones when the
 * last have left, taking on those that join while the job runs, and telling every one it asked
 * when the job ends. {@link JobRunner} drives the steps; this keeps its workers.
 */
final class JobWorkers {

    /** A worker taking part in the job: its actor and its id (which orders the gradient sum). */
    record Participant(ActorRef<WorkerActor.Command> ref, String id) {}

    /** Throws {@link JobCancelledException} if the job was cancelled; {@code steps}: steps done. */
    @FunctionalInterface
    interface Cancellation {
        void check(long steps) throws JobCancelledException;
    }

    /** How often a wait for workers' answers looks whether a participant has left the cluster. */
    private static final long MEMBERSHIP_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** How long workers prepare a job before the job's watchers are told that they still do (tests shorten it). */
    static volatile long slowPreparationNanos = TimeUnit.SECONDS.toNanos(5);
    /** How long the live workers must stay unchanged before a job that takes them all starts. */
    private static final long SETTLE_MILLIS = 2000;
    /** Waits for new workers in a row, no step done in between, before a job with none left fails. */
    private static final int MAX_RECOVERIES = 3;

    private final String jobId;
    private final String jobJson;
    /** The workers the job wants; 0: every live one. */
    private final int wanted;
    private final ActorSystem<?> system;
    private final WorkerRegistry.LiveWorkers live;
    private final JobRunner.Settings settings;
    private final JobListener listener;
    private final ActorRef<WorkerActor.GradientLost> gradientLossListener;
    private final Cancellation cancellation;

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
    /** Whether the workers lost last went all at once (a stalled coordinator or network, typically). */
    private boolean lostAllAtOnce;
    /** Waits for new workers since the last step done (see {@link #awaitNewWorkers}). */
    private int recoveries;
    private String lastWorkerError;
    /**
     * The checksum of the data the job's first workers loaded ({@code JobPrepared.dataDigest}):
     * a worker that prepares the job later from changed data files is not taken on. Null until
     * the first workers are ready.
     */
    private Long dataDigest;
    /** Whether the last {@link #prepare} got as far as asking workers (a wait for new ones tries again then). */
    private boolean askedSome;

    JobWorkers(String jobId, String jobJson, int wanted, ActorSystem<?> system, WorkerRegistry.LiveWorkers live,
               JobRunner.Settings settings, JobListener listener, ActorRef<WorkerActor.GradientLost> gradientLossListener,
               Cancellation cancellation) {
        this.jobId = jobId;
        this.jobJson = jobJson;
        this.wanted = wanted;
        this.system = system;
        this.live = live;
        this.settings = settings;
        this.listener = listener;
        this.gradientLossListener = gradientLossListener;
        this.cancellation = cancellation;
    }

    /** The participants now, sorted by id (the list itself: a step sends to a snapshot of it). */
    List<Participant> current() {
        return participants;
    }

    /** The reason the last worker to fail gave, or null. */
    String lastError() {
        return lastWorkerError;
    }

    /**
     * Before a step or an evaluation is sent: drops the participants that left the cluster, and
     * if none is left waits for new ones ({@link #awaitNewWorkers}); {@code what} names the work.
     */
    void ensureSome(String what, long steps) throws JobFailedException, InterruptedException {
        dropLost();
        if (participants.isEmpty()) {
            awaitNewWorkers(what, steps);
        }
    }

    /**
     * Drops {@code failed} (of the {@code attempted} workers an attempt went to); those still
     * members are not asked again.
     */
    void drop(List<Participant> failed, int attempted) {
        participants.removeAll(failed);
        rememberFailedMembers(failed);
        lostAllAtOnce = failed.size() > 1 && failed.size() == attempted;
    }

    /**
     * After {@link #drop}: when none is left and the last ones failed or missed the deadline while
     * still members, fails the job (new workers would not fare better, and re-preparing these
     * would only repeat it); when they left, the next {@link #ensureSome} waits for new ones.
     */
    void failIfNoneCanCome(List<Participant> failed, String what) throws JobFailedException {
        if (participants.isEmpty() && !allLeft(failed)) {
            throw new JobFailedException(noWorkersLeft(what));
        }
    }

    /** A step was done: the count of waits for new workers in a row starts again. */
    void stepDone() {
        recoveries = 0;
        lostAllAtOnce = false;
    }

    /** Tells every worker asked to prepare the job that it has ended. */
    void endJob() {
        for (Participant w : prepared) {
            w.ref().tell(new WorkerActor.EndJob(jobId));
        }
        joining.keySet().forEach(ref -> ref.tell(new WorkerActor.EndJob(jobId)));
    }

    /**
     * Waits (up to the worker wait) for the job's workers to be live and has them prepare the
     * job; they become the participants. {@code steps}: the steps done so far (for a
     * cancellation's message).
     */
    void prepare(long steps) throws JobFailedException, InterruptedException {
        prepare(steps, false);
    }

    /**
     * As {@link #prepare(long)}; {@code resuming}: the job has lost every worker mid-way, and
     * goes on as soon as some have come back and the membership has settled — the others are
     * taken on between steps as they join ({@link #takeOnJoined}), rather than the job standing
     * still for the whole worker wait when fewer come back than it asked for.
     */
    private void prepare(long steps, boolean resuming) throws JobFailedException, InterruptedException {
        // wait in slices so that a cancellation does not sit out the whole worker wait
        long deadline = System.nanoTime() + settings.workerWait().toNanos();
        int enough = resuming ? 1 : Math.max(1, wanted);
        List<ActorRef<WorkerActor.Command>> refs;
        int toldLive = -1;
        while (true) {
            cancellation.check(steps);
            long left = Math.max(0, (deadline - System.nanoTime()) / 1_000_000);
            refs = live.await(enough, Math.min(left, 200));
            if (refs.size() >= enough || left <= 200) {
                break;
            }
            if (refs.size() != toldLive) {
                // a job that waits says so, and again when the count changes: without this a
                // watcher saw RUNNING, epoch 0, for minutes, or a count that was long out of date
                toldLive = refs.size();
                listener.onEvent("waiting up to " + settings.workerWait().toSeconds() + " s for " + Math.max(1, wanted)
                        + " worker(s); " + refs.size() + " live");
            }
        }
        if (refs.isEmpty()) {
            throw new JobFailedException("no worker joined within " + settings.workerWait().toSeconds() + " s");
        }
        if (resuming) {
            long left = Math.max(0, (deadline - System.nanoTime()) / 1_000_000);
            refs = live.awaitSettled(SETTLE_MILLIS, Math.min(left, 3 * SETTLE_MILLIS));
            if (refs.isEmpty()) {
                throw new JobFailedException("the workers that had come back left again");
            }
        } else if (wanted == 0) {
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
            listener.onEvent("only " + refs.size() + " of " + wanted + " workers " + (resuming ? "are back" : "joined")
                    + "; training with " + refs.size() + (resuming ? " (the others are taken on as they join)" : ""));
        }
        if (wanted > 0 && refs.size() > wanted) {
            refs = refs.subList(0, wanted);
        }
        liveSeen = live.get();
        askedSome = true;
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
            if (r instanceof WorkerActor.JobPrepared ok && !sameData(ok)) {
                r = null; // told in sameData; ended below like any worker that could not prepare
            } else if (r instanceof WorkerActor.JobPrepared ok) {
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

    /**
     * Whether {@code ok}'s worker loaded the same data as the job's first workers (the first one
     * to answer sets the reference). One that did not would train silently on other rows: a data
     * file replaced while the job runs, or another file at the same path on its host.
     */
    private boolean sameData(WorkerActor.JobPrepared ok) {
        if (dataDigest == null) {
            dataDigest = ok.dataDigest();
            return true;
        }
        if (dataDigest == ok.dataDigest()) {
            return true;
        }
        listener.onEvent("worker " + ok.worker() + " loaded other data than this job's other workers (a data file "
                + "changed since the job started, or its host has another file at the same path): it is not taken "
                + "on");
        return false;
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
    void takeOnJoined(long step) {
        List<ActorRef<WorkerActor.Command>> liveNow = live.get();
        if (liveNow == liveSeen && joining.isEmpty() && !relook) {
            return; // the common case: nothing changed, nothing pending
        }
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
            if (r instanceof WorkerActor.JobPrepared ok && !sameData(ok)) {
                r = null; // told in sameData
            }
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
    private void awaitNewWorkers(String what, long steps)
            throws JobFailedException, InterruptedException {
        String lost = noWorkersLeft(what);
        listener.onEvent(what + ": no workers left; waiting up to " + settings.workerWait().toSeconds()
                + " s for workers to join");
        while (true) {
            if (recoveries >= MAX_RECOVERIES) {
                throw new JobFailedException(lost + "; the workers that joined since were lost too, " + recoveries
                        + " times in a row");
            }
            recoveries++;
            // workers lost together come back together, and their old selves may still flicker in
            // the listing for a few seconds: let the membership settle before picking workers
            live.awaitSettled(SETTLE_MILLIS, Math.min(settings.workerWait().toMillis(), 3 * SETTLE_MILLIS));
            askedSome = false;
            try {
                prepare(steps, true);
                break;
            } catch (JobCancelledException e) {
                throw e;
            } catch (JobFailedException e) {
                if (!askedSome) {
                    throw new JobFailedException(lost + "; " + e.getMessage(), e); // none came at all
                }
                // those picked were old selves on their way out (or failed): look again
                listener.onEvent(what + ": " + e.getMessage() + "; waiting again");
            }
        }
        listener.onEvent(what + ": going on with " + participants.stream().map(Participant::id).toList());
    }

    /** Why a job has no worker left for {@code what} ("step 12", "evaluation"). */
    private String noWorkersLeft(String what) {
        StringBuilder why = new StringBuilder("no workers left at " + what);
        if (lostAllAtOnce) {
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
     * Waits until every future has an answer, a participant leaves the cluster, or the deadline
     * passes; returns the participants that failed: those that left, those whose answer is not a
     * good one (a reply other than {@link WorkerActor.WorkFailed}, or a vector from the tensor
     * plane), and, past the deadline, those with no answer yet.
     */
    List<Participant> waitAll(List<Participant> ps, List<? extends CompletableFuture<?>> futures, long deadline)
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
        // a preparation that reads a large data set (thousands of images) takes a while: said
        // once, so that a job at step 0 for a minute does not look stuck
        long tellAt = System.nanoTime() + slowPreparationNanos;
        while (true) {
            Set<ActorRef<WorkerActor.Command>> alive = Set.copyOf(live.get());
            int waiting = 0;
            for (int i = 0; i < refs.size(); i++) {
                waiting += !answers.get(i).isDone() && alive.contains(refs.get(i)) ? 1 : 0;
            }
            long now = System.nanoTime();
            long left = deadline - now;
            if (waiting == 0 || left <= 0) {
                return alive;
            }
            if (now - tellAt >= 0) {
                tellAt = Long.MAX_VALUE;
                listener.onEvent(waiting + " of " + refs.size() + " worker(s) still preparing the job (each reads its "
                        + "data); waiting up to " + TimeUnit.NANOSECONDS.toSeconds(left) + " s more");
            }
            cancellation.check(steps);
            answered.await(Math.min(left, MEMBERSHIP_CHECK_NANOS), TimeUnit.NANOSECONDS);
        }
    }

    /**
     * The first answer that reports a fault of the job itself (see {@link WorkerActor.WorkFailed}),
     * or null: redoing the work on other workers would fail the same way, so the job fails.
     */
    static WorkerActor.WorkFailed jobFault(List<CompletableFuture<WorkerActor.Reply>> answers) {
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

    private void dropLost() {
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

    CompletableFuture<WorkerActor.Reply> ask(ActorRef<WorkerActor.Command> ref,
                                                     akka.japi.function.Function<ActorRef<WorkerActor.Reply>,
                                                             WorkerActor.Command> message, Duration timeout) {
        return AskPattern.ask(ref, message, timeout, system.scheduler()).toCompletableFuture();
    }
}
