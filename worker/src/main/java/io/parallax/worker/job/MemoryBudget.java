package io.parallax.worker.job;

import io.parallax.proto.v1.LayerSpec;
import io.parallax.proto.v1.ModelSpec;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * A rough account of the memory a job's model takes in one process, checked before anything is
 * allocated: a model too large for the JVM should be refused in a second with a line that says
 * so, not end minutes later in an {@code OutOfMemoryError} (which on an actor's thread takes the
 * whole JVM down with a stack trace).
 *
 * <p>Counted, in float32: the coordinator's master weights and gradients (direct memory), its
 * weights, gradient sum, two published versions, the optimizer's state buffers and one gradient
 * per worker as received (heap), and in a cluster the state encoded for the tensor plane, twice
 * while the next version is encoded (heap); per worker in the process, its replica's weights and
 * gradients and the activations of its share of a batch (direct), and, in a worker's own
 * process, its copy of the gradient and of the fetched weights (heap). The data set is counted
 * on the heap.
 * Java's direct memory is limited to the heap's size unless {@code -XX:MaxDirectMemorySize} says
 * otherwise. The account leaves out what is small or short-lived, so it refuses only what cannot
 * fit: a job it lets through may still need a little more.
 */
public final class MemoryBudget {

    /** What the JVM itself, the actors and the gRPC plane take, roughly. */
    private static final long BASELINE_BYTES = 64L << 20;
    /** Per activation element: the layer's output and its gradient. */
    private static final int ACTIVATION_COPIES = 2;

    private MemoryBudget() {}

    /**
     * Fails when this process cannot hold its part of the job.
     *
     * @param workersHere worker replicas in this process (0 on a coordinator alone)
     * @param coordinatorHere whether the coordinator's copies are in this process
     * @param jobWorkers how many workers send gradients to the coordinator
     * @throws InvalidJobException (field {@code model}) saying how much is needed and how much there is
     */
    public static void require(JobPlan plan, int workersHere, boolean coordinatorHere, int jobWorkers) {
        Sizes s = sizes(plan.spec().getModel(), plan.inputFeatures());
        long state = 4 * (s.parameters + s.buffers);
        long heap = BASELINE_BYTES + dataBytes(plan);
        long direct = 0;
        int workers = Math.max(1, jobWorkers);
        if (coordinatorHere) {
            direct += 2 * state;
            // weights, gradient sum, two published versions, the optimizer's state, one
            // gradient per worker as received
            heap += state * (4L + optimizerBuffers(plan.spec().getOptimizer()) + workers);
            if (workersHere == 0) {
                // a cluster's coordinator serves each version encoded for gRPC, and holds the
                // previous encoding while it makes the next
                heap += 2 * state;
            }
        }
        long rows = (plan.batchSize() + (long) workers - 1) / workers;
        direct += workersHere * (2 * state + 4L * ACTIVATION_COPIES * rows * s.activationsPerRow);
        if (!coordinatorHere) {
            // a worker of its own process holds the fetched weights and its gradient on the heap;
            // in the coordinator's process the plane hands both over without copies
            heap += workersHere * 2 * state;
        }
        // read on a client's screen too (a coordinator's refusal of a submission): whose JVM it is
        String where = !coordinatorHere ? "this worker's JVM" : workersHere == 0 ? "the coordinator's JVM" : "this JVM";
        check(heap, direct, where, String.format(Locale.ROOT, "%,d parameters, batch %d, %s, data %s", s.parameters,
                plan.batchSize(), role(workersHere, coordinatorHere), size(dataBytes(plan))));
    }

    /**
     * Fails when this process cannot even build the model once (its weights and gradients), as
     * {@link JobPlan#load} does to check it against the data, whatever the process's role.
     */
    static void requireModel(JobPlan plan) {
        Sizes s = sizes(plan.spec().getModel(), plan.inputFeatures());
        long state = 4 * (s.parameters + s.buffers);
        check(BASELINE_BYTES + dataBytes(plan), 2 * state, "this JVM", String.format(Locale.ROOT,
                "%,d parameters, one copy of the model, data %s", s.parameters, size(dataBytes(plan))));
    }

    private static void check(long heap, long direct, String where, String what) {
        long maxHeap = Runtime.getRuntime().maxMemory();
        long maxDirect = maxDirectMemory(maxHeap);
        if (heap > maxHeap) {
            throw InvalidJobException.of("model", "the job needs about " + size(heap) + " of Java heap in " + where + " ("
                    + what + ") but the JVM may use " + size(maxHeap) + "; give it more (JAVA_OPTS=-Xmx…) or train a "
                    + "smaller model");
        }
        if (direct > maxDirect) {
            throw InvalidJobException.of("model", "the job needs about " + size(direct) + " of direct memory in "
                    + where + " (" + what + ") but the JVM may use " + size(maxDirect) + "; give it more (JAVA_OPTS=-Xmx…"
                    + " or -XX:MaxDirectMemorySize=…) or train a smaller model or batch");
        }
    }

    /** Float buffers of optimizer state per parameter, as each optimizer keeps them. */
    static int optimizerBuffers(io.parallax.proto.v1.OptimizerSpec o) {
        return switch (o.getName()) {
            case "sgd" -> o.getMomentum() > 0 ? 1 : 0;
            case "adam", "adamw" -> o.getAmsgrad() ? 3 : 2;
            case "adagrad" -> 1;
            case "rmsprop" -> 1 + (o.getMomentum() > 0 ? 1 : 0) + (o.getCentered() ? 1 : 0);
            case "adadelta", "adamax", "nadam", "ftrl" -> 2;
            default -> 3;
        };
    }

    private static String role(int workersHere, boolean coordinatorHere) {
        String workers = workersHere == 1 ? "1 worker" : workersHere + " workers";
        if (!coordinatorHere) {
            return workers;
        }
        return workersHere == 0 ? "the coordinator" : "the coordinator and " + workers;
    }

    /** Parameters, buffers and activations per row of {@code m} on rows of {@code width} features. */
    record Sizes(long parameters, long buffers, long activationsPerRow) {}

    static Sizes sizes(ModelSpec m, int width) {
        long parameters = 0;
        for (long p : parametersPerLayer(m, width)) {
            parameters += p;
        }
        long buffers = 0;
        long activations = width;
        for (LayerSpec l : m.getLayersList()) {
            if (l.hasLinear()) {
                width = l.getLinear().getOutFeatures();
            } else if (l.hasBatchNorm()) {
                buffers += 2L * width + 1;
            }
            activations += width;
        }
        return new Sizes(parameters, buffers, activations);
    }

    /** The parameters of each layer of {@code m} on rows of {@code width} features, in order. */
    static long[] parametersPerLayer(ModelSpec m, int width) {
        long[] counts = new long[m.getLayersCount()];
        for (int i = 0; i < counts.length; i++) {
            LayerSpec l = m.getLayers(i);
            switch (l.getKindCase()) {
                case LINEAR -> {
                    var s = l.getLinear();
                    long bias = !s.hasBias() || s.getBias() ? s.getOutFeatures() : 0;
                    counts[i] = (long) width * s.getOutFeatures() + bias;
                    width = s.getOutFeatures();
                }
                case BATCH_NORM -> counts[i] = !l.getBatchNorm().hasAffine() || l.getBatchNorm().getAffine()
                        ? 2L * width : 0;
                default -> { }
            }
        }
        return counts;
    }

    private static long dataBytes(JobPlan plan) {
        long rows = plan.train().rows() + plan.validation().map(d -> (long) d.rows()).orElse(0L);
        return rows * (4L * plan.inputFeatures() + 4);
    }

    private static long maxDirectMemory(long maxHeap) {
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("-XX:MaxDirectMemorySize=")) {
                long bytes = parseSize(arg.substring("-XX:MaxDirectMemorySize=".length()));
                if (bytes > 0) {
                    return bytes;
                }
            }
        }
        return maxHeap;
    }

    static long parseSize(String s) {
        if (s.isEmpty()) {
            return -1;
        }
        char unit = Character.toLowerCase(s.charAt(s.length() - 1));
        int shift = switch (unit) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> 0;
        };
        try {
            return Long.parseLong(shift == 0 ? s : s.substring(0, s.length() - 1)) << shift;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String size(long bytes) {
        return bytes >= 1L << 30 ? String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : String.format(Locale.ROOT, "%d MiB", bytes >> 20);
    }
}
