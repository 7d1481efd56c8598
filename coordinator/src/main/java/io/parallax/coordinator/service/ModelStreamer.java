package io.parallax.coordinator.service;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.parallax.proto.v1.ModelChunk;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One {@code GetModel} stream: a file sent in chunks of at most {@value #CHUNK} bytes, read on
 * the service's executor only while the client's transport is ready, so a model is never held
 * whole in memory nor piled up in the transport's buffers.
 */
final class ModelStreamer {

    /** The proto's limit on a chunk. */
    static final int CHUNK = 1 << 20;

    private final ServerCallStreamObserver<ModelChunk> out;
    private final Executor executor;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private FileChannel file;
    private long size;
    private long offset;
    private boolean closed;

    /** Takes over {@code out}'s readiness and cancellation; call on the handler's thread before it returns. */
    ModelStreamer(ServerCallStreamObserver<ModelChunk> out, Executor executor) {
        this.out = out;
        this.executor = executor;
        out.setOnReadyHandler(this::schedule);
        out.setOnCancelHandler(() -> {
            synchronized (this) {
                closed = true;
                closeFile();
            }
        });
    }

    /** Starts sending {@code path}; an unreadable file ends the call with DATA_LOSS. */
    void start(Path path) {
        synchronized (this) {
            if (closed) {
                return;
            }
            try {
                file = FileChannel.open(path, StandardOpenOption.READ);
                size = file.size();
            } catch (IOException e) {
                fail("the model file could not be read: " + e.getMessage());
                return;
            }
        }
        schedule();
    }

    private void schedule() {
        if (scheduled.compareAndSet(false, true)) {
            try {
                executor.execute(this::drain);
            } catch (RejectedExecutionException e) {
                scheduled.set(false);
            }
        }
    }

    private void drain() {
        scheduled.set(false);
        synchronized (this) {
            if (closed || file == null) {
                return;
            }
            try {
                while (offset < size && out.isReady()) {
                    int n = (int) Math.min(CHUNK, size - offset);
                    // a heap buffer wrapped without a copy (a direct one would be copied again)
                    ByteBuffer chunk = ByteBuffer.allocate(n);
                    while (chunk.hasRemaining()) {
                        if (file.read(chunk, offset + chunk.position()) < 0) {
                            throw new IOException("the file ended at " + (offset + chunk.position()) + " of " + size
                                    + " bytes");
                        }
                    }
                    chunk.flip();
                    out.onNext(ModelChunk.newBuilder().setOffset(offset).setTotalSize(size)
                            .setData(UnsafeByteOperations.unsafeWrap(chunk)).build());
                    offset += n;
                }
            } catch (IOException e) {
                fail("the model file could not be read: " + e.getMessage());
                return;
            }
            if (offset >= size) {
                closed = true;
                closeFile();
                out.onCompleted();
            }
        }
    }

    private void fail(String description) {
        closed = true;
        closeFile();
        out.onError(Status.DATA_LOSS.withDescription(description).asRuntimeException());
    }

    private void closeFile() {
        if (file != null) {
            try {
                file.close();
            } catch (IOException ignored) {
                // read-only: nothing to lose
            }
        }
    }
}
