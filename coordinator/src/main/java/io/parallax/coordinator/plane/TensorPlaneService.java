package io.parallax.coordinator.plane;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.parallax.proto.v1.FetchStateRequest;
import io.parallax.proto.v1.GradientChunk;
import io.parallax.proto.v1.GradientHeader;
import io.parallax.proto.v1.PushGradientReply;
import io.parallax.proto.v1.TensorChunk;
import io.parallax.proto.v1.TensorPlaneGrpc;
import io.parallax.worker.plane.FloatChunks;
import io.parallax.worker.plane.TensorExchange;
import io.parallax.worker.plane.TensorPlaneException;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's {@code TensorPlane} gRPC service: serves the state vectors published in a
 * {@link TensorExchange} as chunked streams, and assembles the gradient streams workers push
 * into arrays it hands to {@link TensorExchange#acceptGradient}.
 *
 * <p>Handlers never block (they copy floats and touch concurrent maps), so the server may run
 * them on the transport's threads ({@code directExecutor}). State streams honour flow control:
 * a chunk is handed to the transport only when the client can take it. A state is encoded once
 * per version and shared by every worker's call. A fetch of the next version with
 * {@code wait_for_publish} waits for its publication and is then served from the publishing
 * thread, so a worker that asks early has the state on its way the moment it exists.
 */
public final class TensorPlaneService extends TensorPlaneGrpc.TensorPlaneImplBase {

    private static final Logger LOG = LoggerFactory.getLogger(TensorPlaneService.class);
    /** Spare gradient arrays kept per job: a step's worth for a few workers. */
    private static final int MAX_SPARE_VECTORS = 16;

    private final TensorExchange exchange;
    private final int chunkFloats;
    private final Map<String, EncodedState> encodedStates = new ConcurrentHashMap<>();
    private final IntFunction<float[]> vectors;
    /** Summed gradient arrays per job, for the next streams to fill (every float is overwritten). */
    private final Map<String, Deque<float[]>> spareVectors = new ConcurrentHashMap<>();

    /** A service over {@code exchange} that sends chunks of {@link FloatChunks#DEFAULT_CHUNK_BYTES}. */
    public TensorPlaneService(TensorExchange exchange) {
        this(exchange, FloatChunks.DEFAULT_CHUNK_BYTES);
    }

    /** A service over {@code exchange} sending chunks of {@code chunkBytes} (a multiple of 4, at most 1 MiB). */
    public TensorPlaneService(TensorExchange exchange, int chunkBytes) {
        this(exchange, chunkBytes, float[]::new);
    }

    /** As above, with the arrays gradients are assembled into made by {@code vectors} (for tests). */
    TensorPlaneService(TensorExchange exchange, int chunkBytes, IntFunction<float[]> vectors) {
        this.exchange = exchange;
        this.vectors = vectors;
        // a step's gradient arrays, once summed, take the next step's vectors: a model of a few
        // hundred MB would otherwise allocate that much per worker per step (humongous objects
        // for G1, and fresh pages for the kernel to clear)
        exchange.recycleWith(this::spare);
        this.chunkFloats = FloatChunks.floatsPerChunk(chunkBytes);
        // an idle coordinator would otherwise hold an encoded copy of the last job's weights
        // (68 MB for a 17 M-parameter model) until the next job publishes
        exchange.onJobEnd(jobId -> {
            encodedStates.remove(jobId);
            spareVectors.remove(jobId);
        });
    }

    /** Keeps a summed gradient array of {@code jobId} for a later stream of the same job. */
    private void spare(String jobId, float[] vector) {
        if (exchange.stateLength(jobId) != vector.length) {
            return; // the job has ended, or the array is not one of its vectors
        }
        Deque<float[]> spares = spareVectors.computeIfAbsent(jobId, j -> new ConcurrentLinkedDeque<>());
        if (spares.size() < MAX_SPARE_VECTORS) {
            spares.push(vector);
        }
    }

    /** A spare array of {@code length} floats for {@code jobId}'s next gradient, or a new one. */
    private float[] vector(String jobId, int length) {
        Deque<float[]> spares = spareVectors.get(jobId);
        float[] v = spares == null ? null : spares.poll();
        return v != null && v.length == length ? v : vectors.apply(length);
    }

    /** Jobs whose state is held encoded (for tests). */
    int encodedJobs() {
        return encodedStates.size();
    }

    @Override
    public void fetchState(FetchStateRequest request, StreamObserver<TensorChunk> responseObserver) {
        String jobId = request.getJobId();
        long version = request.getVersion();
        ServerCallStreamObserver<TensorChunk> call = (ServerCallStreamObserver<TensorChunk>) responseObserver;
        StateSender sender = new StateSender(call, version);
        // both handlers must be set before this method returns; with a cancel handler set, onNext
        // after a cancel is dropped instead of throwing
        call.setOnCancelHandler(sender::cancel);
        call.setOnReadyHandler(sender::pump);
        long published = exchange.publishedVersion(jobId);
        if (request.getWaitForPublish() && published >= 0 && version == published + 1) {
            // the next version: send it the moment it is published (from the publishing thread)
            CompletableFuture<Long> next = exchange.whenPublished(jobId, version);
            sender.onCancel(() -> next.cancel(false));
            next.whenComplete((v, e) -> {
                if (e == null) {
                    serve(jobId, version, sender);
                } else if (!(e instanceof CancellationException)) {
                    sender.fail(e instanceof TensorPlaneException tpe ? PlaneStatus.of(tpe) : PlaneStatus.internal());
                }
            });
        } else {
            serve(jobId, version, sender);
        }
    }

    private void serve(String jobId, long version, StateSender sender) {
        try {
            sender.start(encoded(jobId, version));
        } catch (TensorPlaneException e) {
            sender.fail(PlaneStatus.of(e));
        } catch (RuntimeException e) {
            LOG.error("encoding state version {} of job '{}' failed", version, jobId, e);
            sender.fail(PlaneStatus.internal());
        } catch (OutOfMemoryError e) {
            sender.fail(outOfMemory(jobId, "encoding the state for the workers", e));
        }
    }

    /**
     * A vector the coordinator has no memory for: the job is told (it fails with this reason,
     * instead of dropping the workers whose calls fail), and so is the caller. The memory the
     * failed allocation asked for was never taken, so the coordinator itself goes on.
     */
    private Status outOfMemory(String jobId, String doing, OutOfMemoryError e) {
        String reason = "the coordinator ran out of memory " + doing + " (" + e.getMessage() + "; its JVM may use "
                + (Runtime.getRuntime().maxMemory() >> 20) + " MB of heap): give it more (JAVA_OPTS=-Xmx… before "
                + "'trainer coordinator'), or train a smaller model";
        LOG.error("job '{}': {}", jobId, reason);
        exchange.reportFault(jobId, reason);
        return Status.RESOURCE_EXHAUSTED.withDescription(reason);
    }

    /**
     * The chunks of the job's state at {@code version}, encoded once per version however many
     * workers fetch it. Encoding copies the floats, so the chunks stay valid whatever the
     * coordinator later does with its array.
     */
    private ByteString[] encoded(String jobId, long version) throws TensorPlaneException {
        EncodedState cached = encodedStates.get(jobId);
        if (cached != null && cached.version() == version) {
            return cached.chunks();
        }
        synchronized (encodedStates) {
            cached = encodedStates.get(jobId);
            if (cached != null && cached.version() == version) {
                return cached.chunks();
            }
            float[] state = exchange.state(jobId, version);
            int count = Math.max(1, (state.length + chunkFloats - 1) / chunkFloats); // a 0-float vector is one empty chunk
            ByteString[] chunks = new ByteString[count];
            for (int i = 0; i < count; i++) {
                int from = i * chunkFloats;
                chunks[i] = FloatChunks.encode(state, from, Math.min(chunkFloats, state.length - from));
            }
            // forget the encodings of jobs that ended: at most one vector per running job is kept
            encodedStates.keySet().removeIf(j -> exchange.publishedVersion(j) < 0);
            encodedStates.put(jobId, new EncodedState(version, chunks));
            return chunks;
        }
    }

    private record EncodedState(long version, ByteString[] chunks) {}

    @Override
    public StreamObserver<GradientChunk> pushGradient(StreamObserver<PushGradientReply> responseObserver) {
        return new GradientAssembler(responseObserver);
    }

    /**
     * Sends one state vector, a chunk per on-ready callback round while the client keeps up.
     * The chunks are immutable encodings shared by every call for the version.
     */
    private final class StateSender {
        private final ServerCallStreamObserver<TensorChunk> call;
        private final long version;
        private ByteString[] chunks;
        private Runnable onCancel;
        private long total;
        private int next;
        private long sent;
        private boolean done;
        private boolean pumping;

        StateSender(ServerCallStreamObserver<TensorChunk> call, long version) {
            this.call = call;
            this.version = version;
        }

        /** Starts sending {@code chunks} (the state of the version asked for). */
        synchronized void start(ByteString[] encodedChunks) {
            if (done) {
                return;
            }
            chunks = encodedChunks;
            long floats = 0;
            for (ByteString c : encodedChunks) {
                floats += c.size() / Float.BYTES;
            }
            total = floats;
            pump();
        }

        synchronized void pump() {
            // pumping: onNext may call back into pump on this very thread (the in-process
            // transport reports readiness synchronously); the outer loop carries on instead
            if (chunks == null || pumping) {
                return; // still waiting for the version to be published, or already sending
            }
            pumping = true;
            try {
                while (!done && next < chunks.length && call.isReady()) {
                    ByteString data = chunks[next];
                    TensorChunk chunk = TensorChunk.newBuilder().setVersion(version).setOffset(sent)
                            .setTotalLength(total).setData(data).build();
                    next++;
                    sent += data.size() / Float.BYTES;
                    call.onNext(chunk);
                }
                if (!done && next == chunks.length) {
                    done = true;
                    call.onCompleted();
                }
            } catch (RuntimeException e) {
                done = true;
                LOG.error("sending state version {} failed", version, e);
                call.onError(PlaneStatus.internal().asRuntimeException());
            } finally {
                pumping = false;
            }
        }

        synchronized void fail(Status status) {
            if (!done) {
                done = true;
                call.onError(status.asRuntimeException());
            }
        }

        synchronized void onCancel(Runnable action) {
            onCancel = action;
        }

        void cancel() {
            Runnable action;
            synchronized (this) {
                done = true;
                action = onCancel;
            }
            if (action != null) {
                action.run();
            }
        }
    }

    /**
     * Receives one gradient stream: checks every chunk against the header and the chunks
     * before it, copies its floats in place, and hands the whole vector to the exchange when
     * the stream ends. The first problem ends the call with a status; later chunks are ignored.
     */
    private final class GradientAssembler implements StreamObserver<GradientChunk> {
        private final StreamObserver<PushGradientReply> reply;
        private GradientHeader header;
        private float[] vector;
        private int received;
        private boolean finished;

        GradientAssembler(StreamObserver<PushGradientReply> reply) {
            this.reply = reply;
        }

        @Override
        public void onNext(GradientChunk chunk) {
            if (finished) {
                return;
            }
            try {
                Status problem = vector == null ? start(chunk) : chunk.hasHeader()
                        ? PlaneStatus.invalid("chunk at offset " + chunk.getOffset()
                                + " carries a header; only the first chunk of a stream may")
                        : null;
                if (problem == null) {
                    problem = append(chunk);
                }
                if (problem != null) {
                    fail(problem);
                }
            } catch (RuntimeException e) {
                LOG.error("receiving a gradient chunk failed", e);
                fail(PlaneStatus.internal());
            } catch (OutOfMemoryError e) {
                // the vector's array, allocated at the first chunk: a model too large for this heap
                fail(header == null ? PlaneStatus.internal() : outOfMemory(header.getJobId(), "receiving the gradient of "
                        + "step " + header.getStep() + " from " + header.getWorker(), e));
            }
        }

        /** Reads the header of the first chunk and sizes the vector; null when all is well. */
        private Status start(GradientChunk chunk) {
            if (!chunk.hasHeader()) {
                return PlaneStatus.invalid("the first chunk of a gradient stream must carry the header "
                        + "(job_id, step, attempt, worker, total_length)");
            }
            GradientHeader h = chunk.getHeader();
            if (h.getJobId().isEmpty() || h.getWorker().isEmpty()) {
                return PlaneStatus.invalid("the header must name the job and the worker, got job_id '"
                        + h.getJobId() + "' and worker '" + h.getWorker() + "'");
            }
            if (h.getStep() < 0 || h.getAttempt() < 0) {
                return PlaneStatus.invalid("step and attempt must be >= 0, got step " + h.getStep()
                        + " and attempt " + h.getAttempt());
            }
            // from here on a failure names a gradient the coordinator may be waiting for
            header = h;
            // sized from the exchange, not the header, so a bogus total_length allocates nothing
            int expected = exchange.stateLength(h.getJobId());
            if (expected < 0) {
                return Status.NOT_FOUND.withDescription("no job '" + h.getJobId()
                        + "' with a published state on this coordinator");
            }
            if (h.getTotalLength() != expected) {
                return PlaneStatus.invalid("gradient of " + h.getTotalLength() + " floats for job '"
                        + h.getJobId() + "', whose vectors hold " + expected);
            }
            vector = vector(h.getJobId(), expected);
            return null;
        }

        /** Copies a chunk's floats in place; null when all is well. */
        private Status append(GradientChunk chunk) {
            int bytes = chunk.getData().size();
            if (bytes % Float.BYTES != 0) {
                return PlaneStatus.invalid("chunk at offset " + chunk.getOffset() + " holds " + bytes
                        + " bytes, not a whole number of float32 values");
            }
            if (bytes > FloatChunks.MAX_CHUNK_BYTES) {
                return PlaneStatus.invalid("chunk at offset " + chunk.getOffset() + " holds " + bytes
                        + " bytes; chunks carry at most " + FloatChunks.MAX_CHUNK_BYTES + " (1 MiB)");
            }
            long offset = chunk.getOffset();
            if (offset != received) {
                return PlaneStatus.invalid("chunk at offset " + offset + " after " + received + " floats: "
                        + (offset < received ? "it overlaps what was sent" : "it leaves a gap")
                        + "; chunks must be contiguous and in ascending order");
            }
            int floats = bytes / Float.BYTES;
            if (floats > vector.length - received) {
                return PlaneStatus.invalid("chunk at offset " + offset + " with " + floats
                        + " floats runs past the vector's " + vector.length + " floats");
            }
            received += FloatChunks.decode(chunk.getData(), vector, received);
            return null;
        }

        @Override
        public void onError(Throwable t) {
            // the worker cancelled or the connection dropped: nothing to reply to, but the
            // coordinator may be waiting for this gradient
            if (!finished) {
                reject(new TensorPlaneException(TensorPlaneException.Kind.UNAVAILABLE,
                        "the gradient stream broke off: " + Status.fromThrowable(t).getCode()));
            }
            finished = true;
            vector = null;
        }

        @Override
        public void onCompleted() {
            if (finished) {
                return;
            }
            if (vector == null) {
                fail(PlaneStatus.invalid("empty gradient stream: no header, no data"));
                return;
            }
            if (received != vector.length) {
                fail(PlaneStatus.invalid("gradient stream ended after " + received + " of " + vector.length
                        + " floats"));
                return;
            }
            try {
                exchange.acceptGradient(header.getJobId(), header.getStep(), header.getAttempt(), header.getWorker(),
                        vector);
            } catch (TensorPlaneException e) {
                fail(PlaneStatus.of(e));
                return;
            } catch (RuntimeException e) {
                LOG.error("storing the gradient of step {} from worker '{}' failed", header.getStep(),
                        header.getWorker(), e);
                fail(PlaneStatus.internal());
                return;
            }
            finished = true;
            vector = null;
            reply.onNext(PushGradientReply.newBuilder().setFloatsReceived(received).build());
            reply.onCompleted();
        }

        private void fail(Status status) {
            reject(new TensorPlaneException(TensorPlaneException.Kind.INVALID, "the coordinator rejected the gradient: "
                    + status.getCode() + (status.getDescription() == null ? "" : ": " + status.getDescription())));
            finished = true;
            vector = null;
            reply.onError(status.asRuntimeException());
        }

        /** Tells whoever waits for this stream's gradient (once its header is known) that it will not come. */
        private void reject(TensorPlaneException why) {
            if (header != null) {
                exchange.rejectGradient(header.getJobId(), header.getStep(), header.getAttempt(), header.getWorker(), why);
            }
        }
    }
}
