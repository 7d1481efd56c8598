package io.parallax.worker.plane;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The coordinator's side of the tensor plane: the state vector it publishes for each weight
 * version, and the gradient vectors workers hand in for each step. Both the gRPC service
 * (workers in other processes) and {@link InProcessTensorPlane} (workers in the coordinator's
 * JVM) serve from here.
 *
 * <p>A <em>state vector</em> is the model's flat parameters followed by its flat buffers
 * (running statistics): [P | Q]. A <em>gradient vector</em> is a worker's flat gradient followed
 * by its own buffers after the step: [P | Q]; the coordinator sums the first part and averages
 * the second.
 *
 * <p>Arrays are held by reference, never copied: the synchronous step protocol guarantees the
 * coordinator changes a published state only after every worker has finished reading it, and a
 * worker reuses a gradient array only after the coordinator has summed it.
 */
public final class TensorExchange {

    private record StepKey(long step, int attempt, String worker) {}

    private record Waiter(long version, CompletableFuture<Long> published) {}

    private static final class JobSlot {
        volatile long version = -1;
        volatile float[] state;
        final Map<StepKey, CompletableFuture<float[]>> gradients = new ConcurrentHashMap<>();
        /** Who waits for a version not published yet; guarded by the slot's monitor. */
        final List<Waiter> waiters = new ArrayList<>();
        /** Why the coordinator's side cannot serve the job (out of memory), or null. */
        volatile String fault;
    }

    private final Map<String, JobSlot> jobs = new ConcurrentHashMap<>();
    private final List<Consumer<String>> jobEndListeners = new CopyOnWriteArrayList<>();
    private volatile BiConsumer<String, float[]> recycler;

    /**
     * Calls {@code listener} with a job's id when the job ends here ({@link #endJob}), so that
     * whatever a transport keeps per job (an encoded copy of the state) goes with it.
     */
    public void onJobEnd(Consumer<String> listener) {
        jobEndListeners.add(listener);
    }

    /** Publishes {@code state} as version {@code version} of {@code jobId} (replacing the previous one). */
    public void publishState(String jobId, long version, float[] state) {
        JobSlot slot = jobs.computeIfAbsent(jobId, j -> new JobSlot());
        List<Waiter> ready = new ArrayList<>();
        synchronized (slot) {
            slot.state = state;
            slot.version = version;
            for (Iterator<Waiter> it = slot.waiters.iterator(); it.hasNext(); ) {
                Waiter w = it.next();
                if (w.version() <= version) {
                    ready.add(w);
                    it.remove();
                }
            }
        }
        // outside the lock: a waiter starts sending the state from here
        for (Waiter w : ready) {
            w.published().complete(version);
        }
    }

    /**
     * Completes (with the version then published) once version {@code version} or a later one
     * of {@code jobId} is published, at once if it already is; completes exceptionally with a
     * {@link TensorPlaneException} of kind NOT_FOUND if the job is unknown or ends first. The
     * caller cancels the future when it stops waiting, which also forgets it here.
     */
    public CompletableFuture<Long> whenPublished(String jobId, long version) {
        CompletableFuture<Long> f = new CompletableFuture<>();
        JobSlot slot = jobs.get(jobId);
        if (slot == null) {
            f.completeExceptionally(unknownJob(jobId));
            return f;
        }
        synchronized (slot) {
            if (slot.version >= version) {
                f.complete(slot.version);
                return f;
            }
            Waiter w = new Waiter(version, f);
            slot.waiters.add(w);
            f.whenComplete((v, e) -> {
                synchronized (slot) {
                    slot.waiters.remove(w);
                }
            });
        }
        if (jobs.get(jobId) != slot) { // ended while we registered
            f.completeExceptionally(unknownJob(jobId));
        }
        return f;
    }

    /** The version of {@code jobId} published last, or −1 for an unknown job. */
    public long publishedVersion(String jobId) {
        JobSlot slot = jobs.get(jobId);
        return slot == null ? -1 : slot.version;
    }

    private static TensorPlaneException unknownJob(String jobId) {
        return new TensorPlaneException(TensorPlaneException.Kind.NOT_FOUND, "no job '" + jobId + "' on this coordinator");
    }

    /**
     * The published state of {@code version}.
     *
     * @throws TensorPlaneException when the job is unknown or the version is not the current one
     */
    public float[] state(String jobId, long version) throws TensorPlaneException {
        JobSlot slot = jobs.get(jobId);
        if (slot == null) {
            throw unknownJob(jobId);
        }
        float[] s = slot.state;
        if (slot.version != version || s == null) {
            throw new TensorPlaneException(TensorPlaneException.Kind.STALE, "job '" + jobId + "' is at weight version "
                    + slot.version + ", not " + version);
        }
        return s;
    }

    /** Length of the job's state (and gradient) vectors, or −1 for an unknown job. */
    public int stateLength(String jobId) {
        JobSlot slot = jobs.get(jobId);
        return slot == null || slot.state == null ? -1 : slot.state.length;
    }

    /** Stores a worker's gradient vector for (step, attempt), by reference. */
    public void acceptGradient(String jobId, long step, int attempt, String worker, float[] gradient)
            throws TensorPlaneException {
        JobSlot slot = jobs.get(jobId);
        if (slot == null) {
            throw unknownJob(jobId);
        }
        if (slot.state != null && gradient.length != slot.state.length) {
            throw new TensorPlaneException(TensorPlaneException.Kind.INVALID, "gradient of " + gradient.length
                    + " floats for job '" + jobId + "', whose vectors hold " + slot.state.length);
        }
        slot.gradients.computeIfAbsent(new StepKey(step, attempt, worker), k -> new CompletableFuture<>())
                .complete(gradient);
    }

    /**
     * Records that a worker's gradient for (step, attempt) will not come: its stream was
     * rejected or broke off, or the worker reported its push failed ({@code WorkerActor.GradientLost}).
     * Whoever waits for it ({@link #awaitGradient}) learns why at once; a gradient already
     * stored is kept.
     */
    public void rejectGradient(String jobId, long step, int attempt, String worker, TensorPlaneException why) {
        JobSlot slot = jobs.get(jobId);
        if (slot != null) {
            slot.gradients.computeIfAbsent(new StepKey(step, attempt, worker), k -> new CompletableFuture<>())
                    .completeExceptionally(why);
        }
    }

    /**
     * The gradient a worker hands in for (step, attempt): completes when it is stored, or
     * exceptionally (with a {@link TensorPlaneException}) when its stream was rejected or the job
     * is unknown. A worker acknowledges a step over the control plane as soon as its gradient is
     * on its way, so the coordinator may hold the acknowledgement a little before the vector.
     */
    public CompletableFuture<float[]> awaitGradient(String jobId, long step, int attempt, String worker) {
        JobSlot slot = jobs.get(jobId);
        if (slot == null) {
            return CompletableFuture.failedFuture(unknownJob(jobId));
        }
        return slot.gradients.computeIfAbsent(new StepKey(step, attempt, worker), k -> new CompletableFuture<>());
    }

    /** The gradient a worker handed in for (step, attempt), or null if it has not (yet). */
    public float[] gradient(String jobId, long step, int attempt, String worker) {
        JobSlot slot = jobs.get(jobId);
        CompletableFuture<float[]> f = slot == null ? null : slot.gradients.get(new StepKey(step, attempt, worker));
        return f == null || !f.isDone() || f.isCompletedExceptionally() ? null : f.getNow(null);
    }

    /**
     * Records that the coordinator's own side of the plane failed the job (it could not hold a
     * gradient or an encoded state: out of memory). Such a failure is no worker's: the job reads
     * it with {@link #fault} and fails with it, rather than dropping the workers whose vectors
     * were refused. The first reason is kept.
     */
    public void reportFault(String jobId, String reason) {
        JobSlot slot = jobs.get(jobId);
        if (slot != null && slot.fault == null) {
            slot.fault = reason;
        }
    }

    /** The reason given to {@link #reportFault} for {@code jobId}, or null. */
    public String fault(String jobId) {
        JobSlot slot = jobs.get(jobId);
        return slot == null ? null : slot.fault;
    }

    /**
     * Gives each gradient array {@link #forgetStepsBefore} drops to {@code recycler}, with its
     * job's id, so that a transport that allocates the arrays it assembles can reuse them (a
     * cluster's coordinator receives a whole vector per worker per step).
     */
    public void recycleWith(BiConsumer<String, float[]> recycler) {
        this.recycler = recycler;
    }

    /**
     * Drops every gradient of steps before {@code step}: they have been summed, and nothing
     * here or in the coordinator refers to them any more.
     */
    public void forgetStepsBefore(String jobId, long step) {
        JobSlot slot = jobs.get(jobId);
        if (slot == null) {
            return;
        }
        BiConsumer<String, float[]> r = recycler;
        for (Iterator<Map.Entry<StepKey, CompletableFuture<float[]>>> it = slot.gradients.entrySet().iterator();
                it.hasNext(); ) {
            Map.Entry<StepKey, CompletableFuture<float[]>> e = it.next();
            if (e.getKey().step() < step) {
                it.remove();
                CompletableFuture<float[]> f = e.getValue();
                float[] g = r == null || !f.isDone() || f.isCompletedExceptionally() ? null : f.getNow(null);
                if (g != null) {
                    r.accept(jobId, g);
                }
            }
        }
    }

    /** Forgets a finished job; whoever still waits for one of its states or gradients is told. */
    public void endJob(String jobId) {
        JobSlot slot = jobs.remove(jobId);
        if (slot != null) {
            slot.gradients.values().forEach(f -> f.completeExceptionally(unknownJob(jobId)));
            List<Waiter> waiting;
            synchronized (slot) {
                waiting = new ArrayList<>(slot.waiters);
                slot.waiters.clear();
            }
            for (Waiter w : waiting) {
                w.published().completeExceptionally(unknownJob(jobId));
            }
        }
        jobEndListeners.forEach(l -> l.accept(jobId));
    }
}
