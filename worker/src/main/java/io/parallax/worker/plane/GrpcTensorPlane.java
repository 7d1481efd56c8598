package io.parallax.worker.plane;

import io.grpc.Channel;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.parallax.proto.v1.FetchStateRequest;
import io.parallax.proto.v1.GradientChunk;
import io.parallax.proto.v1.GradientHeader;
import io.parallax.proto.v1.PushGradientReply;
import io.parallax.proto.v1.TensorChunk;
import io.parallax.proto.v1.TensorPlaneGrpc;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The tensor plane over gRPC: a worker's client of the coordinator's {@code TensorPlane}
 * service. Vectors travel as streams of little-endian float32 chunks (at most 1 MiB each), so
 * the 4 MiB message limit never applies.
 *
 * <p>Each call has a deadline ({@link #DEFAULT_DEADLINE} unless configured) and blocks the
 * calling thread until it completes or fails; it never hangs past the deadline. Two calls do not
 * block: {@link #prefetchState} (its result waits for the matching {@link #fetchState}) and
 * {@link #sendGradient} (its acknowledgement comes as a future), so that a worker's step needs
 * no round trip of its own on the tensor plane. The push
 * honours flow control: a chunk is encoded only when the transport can take it, so a large
 * vector never piles up in Netty's buffers. Stream callbacks run on the transport's threads
 * ({@code directExecutor}): they only copy floats and never block.
 *
 * <p>Thread-safe: several threads may call at once (they share one HTTP/2 connection).
 */
public final class GrpcTensorPlane implements TensorPlane {

    /** Deadline of each call unless configured: long enough for a 40 MB vector on a slow link. */
    public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(5);

    /** How long past the deadline the caller waits for gRPC to report it, before giving up itself. */
    private static final long GRACE_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final ManagedChannel ownedChannel;
    private final TensorPlaneGrpc.TensorPlaneStub stub;
    private final long deadlineNanos;
    private final int chunkFloats;
    private final Map<String, Prefetch> prefetches = new ConcurrentHashMap<>();

    /**
     * A client over {@code channel}, which the caller keeps and closes (tests pass an in-process
     * channel here).
     *
     * @param deadline   the deadline of each call, &gt; 0
     * @param chunkBytes payload per pushed chunk: a multiple of 4 from 4 B to 1 MiB
     */
    public GrpcTensorPlane(Channel channel, Duration deadline, int chunkBytes) {
        this(channel, null, deadline, chunkBytes);
    }

    private GrpcTensorPlane(Channel channel, ManagedChannel owned, Duration deadline, int chunkBytes) {
        if (deadline.isNegative() || deadline.isZero()) {
            throw new IllegalArgumentException("deadline must be > 0, got " + deadline);
        }
        this.chunkFloats = FloatChunks.floatsPerChunk(chunkBytes);
        this.deadlineNanos = deadline.toNanos();
        this.stub = TensorPlaneGrpc.newStub(channel);
        this.ownedChannel = owned;
    }

    /** A client of the coordinator at {@code host:port} (plaintext) with the default deadline and chunk size. */
    public static GrpcTensorPlane connect(String host, int port) {
        return connect(host, port, DEFAULT_DEADLINE, FloatChunks.DEFAULT_CHUNK_BYTES);
    }

    /**
     * A client of the coordinator at {@code host:port} over plaintext HTTP/2 that owns its
     * channel ({@link #close()} shuts it down). The connection is made on the first call.
     */
    public static GrpcTensorPlane connect(String host, int port, Duration deadline, int chunkBytes) {
        ManagedChannel channel = Grpc.newChannelBuilderForAddress(host, port, InsecureChannelCredentials.create())
                .directExecutor() // the stream callbacks only copy floats: no thread hop per chunk
                .build();
        try {
            return new GrpcTensorPlane(channel, channel, deadline, chunkBytes);
        } catch (RuntimeException e) {
            channel.shutdownNow();
            throw e;
        }
    }

    @Override
    public float[] fetchState(String jobId, long version, float[] reuse) throws TensorPlaneException {
        Prefetch pending = prefetches.remove(jobId);
        if (pending != null) {
            if (pending.version() == version) {
                try {
                    return await(pending.receiver().result, pending.receiver()::cancel, "prefetching state version "
                            + version + " of job '" + jobId + "'");
                } catch (TensorPlaneException e) {
                    // the early call failed (its deadline passed while the coordinator waited, say):
                    // fetch as usual, into a fresh array in case a late callback still writes the old one
                    reuse = null;
                }
            } else {
                pending.receiver().cancel();
                if (pending.receiver().reuse == reuse) {
                    reuse = null;
                }
            }
        }
        // wait_for_publish: a step's command can come before its weights are published
        StateReceiver receiver = start(jobId, version, reuse, true);
        return await(receiver.result, receiver::cancel, "fetching state version " + version + " of job '" + jobId + "'");
    }

    /**
     * Starts fetching {@code version} with {@code wait_for_publish}: the coordinator sends it as
     * soon as it publishes it. One prefetch per job is pending at a time; a new version replaces
     * (cancels) the pending one.
     */
    @Override
    public void prefetchState(String jobId, long version, float[] reuse) {
        Prefetch pending = prefetches.get(jobId);
        if (pending != null && pending.version() == version && !pending.receiver().result.isCompletedExceptionally()) {
            return;
        }
        try {
            Prefetch started = new Prefetch(version, start(jobId, version, reuse, true));
            Prefetch replaced = prefetches.put(jobId, started);
            if (replaced != null) {
                replaced.receiver().cancel();
            }
        } catch (RuntimeException e) {
            // a hint only (the channel may be shutting down): the fetch will report any real problem
        }
    }

    private StateReceiver start(String jobId, long version, float[] reuse, boolean waitForPublish) {
        StateReceiver receiver = new StateReceiver(version, reuse);
        stub.withDeadlineAfter(deadlineNanos, TimeUnit.NANOSECONDS)
                .fetchState(FetchStateRequest.newBuilder().setJobId(jobId).setVersion(version)
                        .setWaitForPublish(waitForPublish).build(), receiver);
        return receiver;
    }

    private record Prefetch(long version, StateReceiver receiver) {}

    @Override
    public void pushGradient(String jobId, long step, int attempt, String worker, float[] gradient)
            throws TensorPlaneException {
        GradientSender sender = startPush(jobId, step, attempt, worker, gradient);
        checkStored(await(sender.result, sender::cancel, describePush(jobId, step, attempt)), gradient.length);
    }

    /**
     * Starts the push and returns at once; the chunks are encoded and sent from the transport's
     * on-ready callbacks as flow control allows. The future fails with a
     * {@link TensorPlaneException} (the call's deadline applies as for {@link #pushGradient}).
     */
    @Override
    public CompletableFuture<Void> sendGradient(String jobId, long step, int attempt, String worker,
                                                float[] gradient) {
        GradientSender sender;
        try {
            sender = startPush(jobId, step, attempt, worker, gradient);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(new TensorPlaneException(TensorPlaneException.Kind.UNAVAILABLE,
                    describePush(jobId, step, attempt) + ": " + e, e));
        }
        String what = describePush(jobId, step, attempt);
        return sender.result.handle((reply, e) -> {
            try {
                if (e != null) {
                    throw e instanceof TensorPlaneException tpe
                            ? new TensorPlaneException(tpe.kind(), what + ": " + tpe.getMessage(), tpe.getCause())
                            : new TensorPlaneException(TensorPlaneException.Kind.UNAVAILABLE, what + ": " + e, e);
                }
                checkStored(reply, gradient.length);
                return null;
            } catch (TensorPlaneException failure) {
                throw new java.util.concurrent.CompletionException(failure);
            }
        });
    }

    private GradientSender startPush(String jobId, long step, int attempt, String worker, float[] gradient) {
        GradientHeader header = GradientHeader.newBuilder().setJobId(jobId).setStep(step).setAttempt(attempt)
                .setWorker(worker).setTotalLength(gradient.length).build();
        GradientSender sender = new GradientSender(header, gradient, chunkFloats);
        stub.withDeadlineAfter(deadlineNanos, TimeUnit.NANOSECONDS).pushGradient(sender);
        return sender;
    }

    private static String describePush(String jobId, long step, int attempt) {
        return "pushing the gradient of step " + step + " (attempt " + attempt + ") of job '" + jobId + "'";
    }

    private static void checkStored(PushGradientReply reply, int length) throws TensorPlaneException {
        if (reply.getFloatsReceived() != length) {
            throw new TensorPlaneException(TensorPlaneException.Kind.INVALID, "the coordinator stored "
                    + reply.getFloatsReceived() + " floats of a " + length + "-float gradient");
        }
    }

    /** Waits for a call; gRPC's deadline ends it, the grace period only guards against a lost callback. */
    private <T> T await(CompletableFuture<T> result, Runnable cancel, String what) throws TensorPlaneException {
        try {
            return result.get(deadlineNanos + GRACE_NANOS, TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TensorPlaneException tpe) {
                throw new TensorPlaneException(tpe.kind(), what + ": " + tpe.getMessage(), tpe.getCause());
            }
            throw new TensorPlaneException(TensorPlaneException.Kind.UNAVAILABLE, what + ": " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            cancel.run();
            throw new TensorPlaneException(TensorPlaneException.Kind.UNAVAILABLE, what + ": no answer within the deadline");
        } catch (InterruptedException e) {
            cancel.run();
            Thread.currentThread().interrupt();
            throw new TensorPlaneException(TensorPlaneException.Kind.UNAVAILABLE, what + ": interrupted");
        }
    }

    /** The tensor-plane failure a gRPC status stands for. */
    static TensorPlaneException fromStatus(Status status) {
        TensorPlaneException.Kind kind = switch (status.getCode()) {
            case NOT_FOUND -> TensorPlaneException.Kind.NOT_FOUND;
            case FAILED_PRECONDITION -> TensorPlaneException.Kind.STALE;
            case INVALID_ARGUMENT, OUT_OF_RANGE -> TensorPlaneException.Kind.INVALID;
            // DEADLINE_EXCEEDED, UNAVAILABLE (refused, reset), CANCELLED, INTERNAL, UNKNOWN, ...:
            // the coordinator did not do what was asked; the caller may retry or give up
            default -> TensorPlaneException.Kind.UNAVAILABLE;
        };
        String description = status.getDescription();
        if (status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
            // gRPC's own words here are its channel's internals ("CallOptions deadline exceeded
            // after 29.999s. Name resolution delay … [closed=[], open=[[connecting_and_lb_delay=…")
            return new TensorPlaneException(kind, "no answer from the coordinator's tensor plane within the deadline"
                    + " (unreachable, or too slow)", status.getCause());
        }
        return new TensorPlaneException(kind, status.getCode() + (description == null ? "" : ": " + description),
                status.getCause());
    }

    @Override
    public void close() {
        prefetches.values().forEach(p -> p.receiver().cancel());
        prefetches.clear();
        if (ownedChannel != null) {
            ownedChannel.shutdown();
            try {
                if (!ownedChannel.awaitTermination(1, TimeUnit.SECONDS)) {
                    ownedChannel.shutdownNow();
                }
            } catch (InterruptedException e) {
                ownedChannel.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Receives the chunks of a state vector into the caller's array (or a new one). */
    private static final class StateReceiver implements ClientResponseObserver<FetchStateRequest, TensorChunk> {
        final CompletableFuture<float[]> result = new CompletableFuture<>();
        private final long version;
        final float[] reuse;
        private ClientCallStreamObserver<FetchStateRequest> call;
        private float[] vector;
        private int received;

        StateReceiver(long version, float[] reuse) {
            this.version = version;
            this.reuse = reuse;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<FetchStateRequest> requestStream) {
            this.call = requestStream;
        }

        @Override
        public void onNext(TensorChunk chunk) {
            if (result.isDone()) {
                return;
            }
            String problem = check(chunk);
            if (problem != null) {
                // a coordinator that breaks the contract: stop the stream rather than guess
                result.completeExceptionally(new TensorPlaneException(TensorPlaneException.Kind.INVALID,
                        "the coordinator sent a malformed state stream: " + problem));
                call.cancel(problem, null);
                return;
            }
            if (vector == null) {
                int total = (int) chunk.getTotalLength();
                vector = reuse != null && reuse.length == total ? reuse : new float[total];
            }
            received += FloatChunks.decode(chunk.getData(), vector, received);
        }

        private String check(TensorChunk chunk) {
            long total = chunk.getTotalLength();
            if (chunk.getVersion() != version) {
                return "chunk of version " + chunk.getVersion() + " in a stream of version " + version;
            }
            if (total < 0 || total > Integer.MAX_VALUE - 8 || (vector != null && total != vector.length)) {
                return "total_length " + total + " is not a valid or consistent vector length";
            }
            int size = chunk.getData().size();
            if (size % Float.BYTES != 0 || size > FloatChunks.MAX_CHUNK_BYTES) {
                return "chunk of " + size + " bytes (must be a whole number of floats, at most 1 MiB)";
            }
            if (chunk.getOffset() != received || received + size / Float.BYTES > total) {
                return "chunk at offset " + chunk.getOffset() + " with " + size / Float.BYTES + " floats after "
                        + received + " floats of " + total;
            }
            return null;
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(fromStatus(Status.fromThrowable(t)));
        }

        @Override
        public void onCompleted() {
            if (vector == null || received != vector.length) {
                result.completeExceptionally(new TensorPlaneException(TensorPlaneException.Kind.INVALID,
                        "the coordinator's state stream ended after " + received + " floats"
                                + (vector == null ? " without a chunk" : " of " + vector.length)));
            } else {
                result.complete(vector);
            }
        }

        void cancel() {
            if (call != null) {
                call.cancel("the caller gave up", null);
            }
        }
    }

    /**
     * Streams a gradient vector, encoding a chunk only while the transport is ready for one
     * (flow control: the next chunk waits for the on-ready callback instead of queueing).
     */
    private static final class GradientSender implements ClientResponseObserver<GradientChunk, PushGradientReply> {
        final CompletableFuture<PushGradientReply> result = new CompletableFuture<>();
        private final GradientHeader header;
        private final float[] gradient;
        private final int chunkFloats;
        private ClientCallStreamObserver<GradientChunk> call;
        private int sent;
        private boolean headerSent;
        private boolean halfClosed;

        GradientSender(GradientHeader header, float[] gradient, int chunkFloats) {
            this.header = header;
            this.gradient = gradient;
            this.chunkFloats = chunkFloats;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<GradientChunk> requestStream) {
            this.call = requestStream;
            requestStream.setOnReadyHandler(this::pump);
        }

        /** Runs on every on-ready callback; callbacks of one call never overlap, the lock is a cheap guard. */
        private synchronized void pump() {
            while (!halfClosed && !result.isDone() && call.isReady()) {
                int n = Math.min(chunkFloats, gradient.length - sent);
                GradientChunk.Builder chunk = GradientChunk.newBuilder().setOffset(sent)
                        .setData(FloatChunks.encode(gradient, sent, n));
                if (!headerSent) {
                    chunk.setHeader(header); // the first chunk names the vector; a 0-float vector is this chunk alone
                    headerSent = true;
                }
                call.onNext(chunk.build());
                sent += n;
                if (sent == gradient.length) {
                    halfClosed = true;
                    call.onCompleted();
                }
            }
        }

        @Override
        public void onNext(PushGradientReply reply) {
            result.complete(reply);
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(fromStatus(Status.fromThrowable(t)));
        }

        @Override
        public void onCompleted() {
            if (!result.isDone()) {
                result.completeExceptionally(new TensorPlaneException(TensorPlaneException.Kind.UNAVAILABLE,
                        "the coordinator closed the push without a reply"));
            }
        }

        void cancel() {
            if (call != null) {
                call.cancel("the caller gave up", null);
            }
        }
    }
}
