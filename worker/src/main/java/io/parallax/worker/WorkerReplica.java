package io.parallax.worker;

import akka.actor.typed.ActorRef;
import io.parallax.engine.data.Dataset;
import io.parallax.engine.layer.ForwardContext;
import io.parallax.engine.layer.RowBuffer;
import io.parallax.engine.loss.Loss;
import io.parallax.engine.loss.Targets;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.tensor.Tensor;
import io.parallax.engine.train.BatchTargets;
import io.parallax.worker.job.JobPlan;
import io.parallax.worker.job.MemoryBudget;
import io.parallax.worker.plane.TensorPlane;
import io.parallax.worker.plane.TensorPlaneException;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job's replica on a worker: the model, the data, and the two computations a worker does —
 * the gradient of the loss <em>summed</em> over given training rows, and the summed loss and
 * correct count over a range of validation rows. Before each, the replica brings its weights to
 * the requested version from the tensor plane (once per version); once it has a version, it asks
 * for the next one ahead of time, which the coordinator sends the moment it publishes it.
 *
 * <p>The pushed vector is [gradient | buffers]: the coordinator adds the gradients of all
 * workers and averages their buffers (batch-norm running statistics, which each worker updates
 * from its own rows, as PyTorch DDP does).
 */
final class WorkerReplica implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerReplica.class);

    private final String jobId;
    private final String workerId;
    private final TensorPlane plane;
    private final ActorRef<WorkerActor.GradientLost> gradientLostTo;
    private final JobPlan plan;
    private final Sequential model;
    private final Loss loss;
    private final BatchTargets targets;
    private final int parameters;
    private final int buffers;
    private final RowBuffer input = new RowBuffer();
    private final RowBuffer outputGrad = new RowBuffer();
    private float[] stateScratch;
    private float[] gradient;
    private long version = -1;

    private WorkerReplica(String jobId, String workerId, TensorPlane plane,
                          ActorRef<WorkerActor.GradientLost> gradientLostTo, JobPlan plan, WorkerEnvironment env) {
        this.jobId = jobId;
        this.workerId = workerId;
        this.plane = plane;
        this.gradientLostTo = gradientLostTo;
        this.plan = plan;
        if (plane.serializes()) {
            // a worker of its own process: what it holds besides the data (read by now) fails here,
            // in words, before the model is built (in single-node mode the launcher counted it)
            MemoryBudget.require(plan, 1, false, Math.max(1, plan.workers()));
        }
        this.model = plan.buildModel(env.backend());
        this.loss = plan.loss(Loss.Reduction.SUM);
        this.targets = new BatchTargets(loss);
        this.parameters = Math.toIntExact(model.parameters().size());
        this.buffers = Math.toIntExact(model.buffers().size());
        this.gradient = new float[parameters + buffers];
    }

    /** Gets the job's plan (its data loaded) from the environment and builds the replica. */
    static WorkerReplica prepare(String jobId, String jobJson, String workerId, String planeHost, int planePort,
                                 ActorRef<WorkerActor.GradientLost> gradientLostTo, WorkerEnvironment env) {
        TensorPlane plane = env.connect(planeHost, planePort);
        try {
            return new WorkerReplica(jobId, workerId, plane, gradientLostTo, env.plan(jobJson), env);
        } catch (RuntimeException | Error e) {
            plane.close(); // a job that cannot be prepared here keeps no channel open
            throw e;
        }
    }

    int stateLength() {
        return parameters + buffers;
    }

    /** The checksum of the data this replica trains and evaluates on, as loaded and normalised. */
    long dataDigest() {
        long train = plan.train().digest();
        return plan.validation().map(v -> train * 31 + v.digest()).orElse(train);
    }

    WorkerActor.GradientComputed computeGradient(long step, int attempt, long atVersion, int epoch, int[] rows)
            throws TensorPlaneException {
        long fetchStart = System.nanoTime();
        long planeBytes = syncState(atVersion);
        // the next step runs at the next version: ask for it now, so it travels while this step
        // computes and the coordinator steps, and is here (or on its way) when the command comes
        plane.prefetchState(jobId, atVersion + 1, stateScratch);
        long computeStart = System.nanoTime();
        Dataset train = plan.train();
        int n = rows.length;
        Tensor x = gather(train, rows);
        int[] labels = new int[n];
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            labels[i] = train.labels()[rows[i]];
            ids[i] = rows[i];
        }
        model.train();
        Tensor out = model.forward(x, new ForwardContext(true, plan.seed(), epoch, ids));
        Tensor grad = outputGrad.get(model.backend(), n, out.cols());
        Targets t = targets.of(out, labels, train.classes());
        double lossSum = loss.compute(out, t, grad);
        long correct = targets.correct(out, t, labels);
        model.backward(grad);
        // the coordinator may still hold the previous array (single-node mode passes it by
        // reference), but it has summed it before sending this step: reuse is safe
        model.gradients().storage().copyToHost(model.gradients().offset(), gradient, 0, parameters);
        model.buffers().storage().copyToHost(model.buffers().offset(), gradient, parameters, buffers);
        long pushStart = System.nanoTime();
        // acknowledged over Akka while the vector travels: the coordinator waits for the vector
        // itself. The array is overwritten only by a later command, which the coordinator sends
        // once it holds this vector (or has given up on this attempt). A stream that breaks on
        // the way is seen on the coordinator's side too; a push that fails before any stream
        // reached it (the plane unreachable while Akka still works) is seen only here, so it is
        // told over Akka: the coordinator would otherwise wait for the vector until its timeout
        plane.sendGradient(jobId, step, attempt, workerId, gradient).whenComplete((ok, e) -> {
            if (e != null) {
                String why = (e instanceof CompletionException && e.getCause() != null ? e.getCause() : e).getMessage();
                LOG.warn("job {}: the gradient of step {} (attempt {}) did not reach the coordinator: {}", jobId, step,
                        attempt, why);
                gradientLostTo.tell(new WorkerActor.GradientLost(jobId, step, attempt, workerId, String.valueOf(why)));
            }
        });
        long pushEnd = System.nanoTime();
        planeBytes += plane.serializes() ? (long) gradient.length * Float.BYTES : 0;
        return new WorkerActor.GradientComputed(jobId, step, attempt, workerId, lossSum, correct, n,
                computeStart - fetchStart, pushStart - computeStart, pushEnd - pushStart, planeBytes);
    }

    WorkerActor.Evaluated evaluate(long atVersion, int from, int count) throws TensorPlaneException {
        syncState(atVersion);
        Dataset validation = plan.validation().orElseThrow(
                () -> new IllegalArgumentException("the job has no validation data to evaluate"));
        if (from < 0 || count < 0 || from + count > validation.rows()) {
            throw new IllegalArgumentException("validation rows [" + from + ", " + (from + count) + ") outside "
                    + validation.rows());
        }
        model.eval();
        double lossSum = 0;
        long correct = 0;
        int batch = 1024;
        for (int start = from; start < from + count; start += batch) {
            int n = Math.min(batch, from + count - start);
            int[] rows = new int[n];
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) {
                rows[i] = start + i;
                labels[i] = validation.labels()[start + i];
            }
            Tensor out = model.forward(gather(validation, rows), ForwardContext.eval());
            Targets t = targets.of(out, labels, validation.classes());
            lossSum += loss.compute(out, t);
            correct += targets.correct(out, t, labels);
        }
        return new WorkerActor.Evaluated(jobId, atVersion, from, workerId, lossSum, correct, count);
    }

    private Tensor gather(Dataset data, int[] rows) {
        int width = data.width();
        float[] features = data.features();
        Tensor x = input.get(model.backend(), rows.length, width);
        // row by row straight into the input tensor: no host array of the batch to allocate
        // (hundreds of KB per step) and fill first
        for (int i = 0; i < rows.length; i++) {
            x.storage().copyFromHost(x.offset() + (long) i * width, features, rows[i] * width, width);
        }
        return x;
    }

    /** Brings the replica to {@code atVersion}; returns the bytes moved to do so. */
    private long syncState(long atVersion) throws TensorPlaneException {
        if (atVersion == version) {
            return 0;
        }
        float[] state = plane.fetchState(jobId, atVersion, stateScratch);
        if (state.length != parameters + buffers) {
            throw new TensorPlaneException(TensorPlaneException.Kind.INVALID, "coordinator sent " + state.length
                    + " floats of state; this replica has " + parameters + " parameters and " + buffers + " buffers");
        }
        // over the network the plane filled (or allocated) this array: keep it for the next fetch;
        // in process it is the coordinator's own array, which the plane never writes into
        stateScratch = state;
        model.parameters().storage().copyFromHost(model.parameters().offset(), state, 0, parameters);
        model.buffers().storage().copyFromHost(model.buffers().offset(), state, parameters, buffers);
        version = atVersion;
        return plane.serializes() ? (long) state.length * Float.BYTES : 0;
    }

    @Override
    public void close() {
        plane.close();
    }
}
