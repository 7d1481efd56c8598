package io.parallax.worker;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import io.parallax.worker.plane.TensorPlaneException;
import io.parallax.worker.protocol.ControlMessage;
import java.util.HashMap;
import java.util.Map;

/**
 * A worker: holds a replica of each running job's network and computes the gradient of the loss
 * summed over the rows it is given, then hands it to the coordinator over the tensor plane and
 * acknowledges over Akka. Registers with the Receptionist under {@link #SERVICE_KEY}.
 *
 * <p>Spawn it on the compute dispatcher ({@code parallax.compute-dispatcher}): its handlers do
 * the forward and backward passes, which must never run on Akka's default dispatcher.
 * Failures are replies ({@link WorkFailed}), never exceptions across actors.
 */
public final class WorkerActor extends AbstractBehavior<WorkerActor.Command> {

    /** The Receptionist key every worker registers under. */
    public static final ServiceKey<Command> SERVICE_KEY = ServiceKey.create(Command.class, "parallax-worker");

    /** Messages a worker accepts. */
    public sealed interface Command extends ControlMessage
            permits PrepareJob, ComputeGradient, Evaluate, EndJob {}

    /**
     * Load the job's data and build its model replica.
     *
     * @param jobJson   the JobSpec in protobuf's JSON mapping
     * @param planeHost      host of the coordinator's tensor plane (ignored in single-node mode)
     * @param planePort      its port
     * @param gradientLostTo told, for the rest of the job, of each gradient whose push failed
     *                       after its step was acknowledged ({@link GradientLost})
     */
    public record PrepareJob(String jobId, String jobJson, String planeHost, int planePort,
                             ActorRef<GradientLost> gradientLostTo, ActorRef<Reply> replyTo) implements Command {}

    /**
     * Compute the gradient of the summed loss over training rows {@code rows} (dataset indices)
     * at weight version {@code version}, and push it for (step, attempt).
     */
    public record ComputeGradient(String jobId, long step, int attempt, long version, int epoch, int[] rows,
                                  ActorRef<Reply> replyTo) implements Command {}

    /** Evaluate validation rows [from, from + count) at weight version {@code version}. */
    public record Evaluate(String jobId, long version, int from, int count, ActorRef<Reply> replyTo)
            implements Command {}

    /** Drop the job's replica and data. */
    public record EndJob(String jobId) implements Command {}

    /** Answers to the coordinator. */
    public sealed interface Reply extends ControlMessage permits JobPrepared, GradientComputed, Evaluated, WorkFailed {}

    /**
     * The replica is ready; its state vectors hold {@code stateLength} floats, and the data it
     * loaded have the checksum {@code dataDigest} ({@code Dataset.digest()} of the training and
     * validation sets), which the coordinator compares across the job's workers.
     */
    public record JobPrepared(String jobId, String worker, int stateLength, long dataDigest) implements Reply {}

    /**
     * The gradient for (step, attempt) is on the tensor plane; the summed loss of its rows, the
     * bytes this step moved on the tensor plane, and where the worker's time went (ns): waiting
     * for the state of the step's version, the forward and backward passes, handing in the
     * gradient.
     */
    public record GradientComputed(String jobId, long step, int attempt, String worker, double lossSum, long correct,
                                   int rows, long fetchNanos, long computeNanos, long pushNanos, long planeBytes)
            implements Reply {

        /** Time this step spent on the tensor plane: fetching the state and pushing the gradient. */
        public long planeNanos() {
            return fetchNanos + pushNanos;
        }
    }

    /**
     * The gradient of (step, attempt), acknowledged with {@link GradientComputed}, did not reach
     * the coordinator: its push failed on this worker's side ({@code message} says how). Sent to
     * the job's {@link PrepareJob#gradientLostTo}, so that the coordinator redoes the step without
     * this worker at once rather than at the step timeout; a vector the coordinator has already
     * stored is kept. Not an answer to a command: it comes later, unasked.
     */
    public record GradientLost(String jobId, long step, int attempt, String worker, String message)
            implements ControlMessage {}

    /** Summed loss and correct predictions over the evaluated rows. */
    public record Evaluated(String jobId, long version, int from, String worker, double lossSum, long correct,
                            int rows) implements Reply {}

    /**
     * A command could not be carried out; {@code message} says why, for the job's log.
     * {@code jobFault}: the job's own computation failed (the model diverged to non-finite
     * values, or rejected its input), which any worker would hit on the same rows at the same
     * weights, so redoing the step elsewhere cannot help; otherwise the failure is this worker's
     * (its tensor plane, its state), and the step can be redone without it.
     */
    public record WorkFailed(String jobId, String worker, String command, String message, boolean jobFault)
            implements Reply {}

    /** Creates a worker named {@code workerId} (unique in the cluster; orders gradient sums). */
    public static Behavior<Command> create(String workerId, WorkerEnvironment environment) {
        return Behaviors.setup(context -> {
            context.getSystem().receptionist().tell(Receptionist.register(SERVICE_KEY, context.getSelf()));
            return new WorkerActor(context, workerId, environment);
        });
    }

    private final String workerId;
    private final WorkerEnvironment environment;
    private final Map<String, WorkerReplica> replicas = new HashMap<>();

    private WorkerActor(ActorContext<Command> context, String workerId, WorkerEnvironment environment) {
        super(context);
        this.workerId = workerId;
        this.environment = environment;
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(PrepareJob.class, this::onPrepare)
                .onMessage(ComputeGradient.class, this::onCompute)
                .onMessage(Evaluate.class, this::onEvaluate)
                .onMessage(EndJob.class, this::onEnd)
                .onSignal(PostStop.class, s -> closeAll())
                .build();
    }

    private Behavior<Command> onPrepare(PrepareJob m) {
        try {
            WorkerReplica old = replicas.remove(m.jobId());
            if (old != null) {
                old.close();
            }
            WorkerReplica replica = WorkerReplica.prepare(m.jobId(), m.jobJson(), workerId, m.planeHost(), m.planePort(),
                    m.gradientLostTo(), environment);
            replicas.put(m.jobId(), replica);
            m.replyTo().tell(new JobPrepared(m.jobId(), workerId, replica.stateLength(), replica.dataDigest()));
        } catch (RuntimeException e) {
            getContext().getLog().warn("worker {} cannot prepare job {}: {}", workerId, m.jobId(), e.getMessage());
            m.replyTo().tell(new WorkFailed(m.jobId(), workerId, "prepare", describe(e), false));
        } catch (OutOfMemoryError e) {
            m.replyTo().tell(outOfMemory(m.jobId(), "prepare", "loading the job's data and model", e));
        }
        return this;
    }

    /**
     * Answers a command that ran out of memory, and drops the job's replica so that the memory
     * comes back. Caught rather than left to Akka, which on a fatal error ends the whole JVM with
     * a stack trace in the worker's log, and the job only hears that the worker left: the
     * allocation that fails is the job's own (its data, its model, a batch's activations), so
     * what it leaves half made is garbage once it is dropped, and the worker stays for the next
     * job. The step is redone without this worker, as for any worker's failure.
     */
    private WorkFailed outOfMemory(String jobId, String command, String doing, OutOfMemoryError e) {
        WorkerReplica replica = replicas.remove(jobId);
        if (replica != null) {
            replica.close();
        }
        boolean direct = String.valueOf(e.getMessage()).contains("Direct buffer");
        String message = "out of memory " + doing + " (" + e.getMessage() + "; this worker's JVM may use "
                + (Runtime.getRuntime().maxMemory() >> 20) + " MB of heap" + (direct ? ", and as much direct memory"
                        + " unless -XX:MaxDirectMemorySize says otherwise" : "") + "): start the worker with more "
                + "(JAVA_OPTS=-Xmx… before 'trainer worker'), or train on less data or a smaller model or batch";
        getContext().getLog().warn("worker {}, job {}: {}", workerId, jobId, message);
        return new WorkFailed(jobId, workerId, command, message, false);
    }

    private Behavior<Command> onCompute(ComputeGradient m) {
        WorkerReplica replica = replicas.get(m.jobId());
        if (replica == null) {
            m.replyTo().tell(new WorkFailed(m.jobId(), workerId, "compute", "job " + m.jobId() + " is not prepared here",
                    false));
            return this;
        }
        try {
            m.replyTo().tell(replica.computeGradient(m.step(), m.attempt(), m.version(), m.epoch(), m.rows()));
        } catch (RuntimeException | TensorPlaneException e) {
            getContext().getLog().warn("worker {} failed step {} of job {}: {}", workerId, m.step(), m.jobId(),
                    e.getMessage());
            m.replyTo().tell(new WorkFailed(m.jobId(), workerId, "compute", describe(e), isJobFault(e)));
        } catch (OutOfMemoryError e) {
            m.replyTo().tell(outOfMemory(m.jobId(), "compute", "computing step " + m.step(), e));
        }
        return this;
    }

    private Behavior<Command> onEvaluate(Evaluate m) {
        WorkerReplica replica = replicas.get(m.jobId());
        if (replica == null) {
            m.replyTo().tell(new WorkFailed(m.jobId(), workerId, "evaluate", "job " + m.jobId() + " is not prepared here",
                    false));
            return this;
        }
        try {
            m.replyTo().tell(replica.evaluate(m.version(), m.from(), m.count()));
        } catch (RuntimeException | TensorPlaneException e) {
            m.replyTo().tell(new WorkFailed(m.jobId(), workerId, "evaluate", describe(e), isJobFault(e)));
        } catch (OutOfMemoryError e) {
            m.replyTo().tell(outOfMemory(m.jobId(), "evaluate", "evaluating", e));
        }
        return this;
    }

    private Behavior<Command> onEnd(EndJob m) {
        WorkerReplica replica = replicas.remove(m.jobId());
        if (replica != null) {
            replica.close();
        }
        return this;
    }

    private Behavior<Command> closeAll() {
        replicas.values().forEach(WorkerReplica::close);
        replicas.clear();
        return this;
    }

    /**
     * Whether a failure of the forward/backward work is the job's own: the engine throws
     * {@link ArithmeticException} for non-finite values (a diverged model) and
     * {@link IllegalArgumentException} for input it rejects, and both follow from the weights and
     * rows alone.
     */
    private static boolean isJobFault(Exception e) {
        return e instanceof ArithmeticException || e instanceof IllegalArgumentException;
    }

    private static String describe(Exception e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
