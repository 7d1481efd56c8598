package io.parallax.deploy.client;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobEvent;
import io.parallax.proto.v1.JobId;
import io.parallax.proto.v1.JobServiceGrpc;
import io.parallax.proto.v1.JobSpec;
import io.parallax.proto.v1.JobState;
import io.parallax.proto.v1.ListJobsRequest;
import io.parallax.proto.v1.ModelChunk;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The client side of {@code JobService}: one channel to a coordinator, a deadline on every unary
 * call, and gRPC failures turned into {@link ClientFailure}s a person can read (never a stack
 * trace).
 */
final class JobClient implements AutoCloseable {

    /**
     * Deadline of a whole model download: far above what a model of a few hundred MB takes over
     * a LAN, low enough that a stuck stream ends.
     */
    static final Duration MODEL_DEADLINE = Duration.ofMinutes(10);

    private final ServerAddress address;
    private final Duration deadline;
    private final ManagedChannel channel;
    private final JobServiceGrpc.JobServiceBlockingStub stub;

    /**
     * @param deadline how long each unary call may take, connecting included
     */
    JobClient(ServerAddress address, Duration deadline) {
        this.address = address;
        this.deadline = deadline;
        this.channel = Grpc.newChannelBuilderForAddress(address.host(), address.port(),
                        InsecureChannelCredentials.create())
                // A watch can sit silent for as long as a job waits in the queue; pings find a
                // dead coordinator. Five minutes is the server's default minimum ping interval,
                // below which it would close the connection for pinging too often.
                .keepAliveTime(5, TimeUnit.MINUTES)
                .keepAliveTimeout(20, TimeUnit.SECONDS)
                .build();
        this.stub = JobServiceGrpc.newBlockingStub(channel);
    }

    ServerAddress address() {
        return address;
    }

    /** Submits a job; returns its id. */
    String submit(JobSpec spec) {
        try {
            return unary().submitJob(spec).getId();
        } catch (StatusRuntimeException e) {
            throw failure(e, null);
        }
    }

    /** One job's record. */
    Job get(String id) {
        try {
            return unary().getJob(jobId(id));
        } catch (StatusRuntimeException e) {
            throw failure(e, id);
        }
    }

    /** Jobs, newest first; {@code state} {@code JOB_STATE_UNSPECIFIED} for all, {@code limit} 0 for the server's default. */
    List<Job> list(JobState state, int limit) {
        try {
            return unary().listJobs(ListJobsRequest.newBuilder().setState(state).setLimit(limit).build()).getJobsList();
        } catch (StatusRuntimeException e) {
            throw failure(e, null);
        }
    }

    /** Asks the coordinator to cancel a job; returns the record it answers with. */
    Job cancel(String id) {
        try {
            return unary().cancelJob(jobId(id));
        } catch (StatusRuntimeException e) {
            throw failure(e, id);
        }
    }

    /** Asks the coordinator to delete an ended job; returns the record as it was. */
    Job delete(String id) {
        try {
            return unary().deleteJob(jobId(id));
        } catch (StatusRuntimeException e) {
            throw failure(e, id);
        }
    }

    /**
     * Follows a job's events until the coordinator ends the stream. No deadline on the stream: a
     * job may train for hours. A unary call under the deadline goes first, so that an address
     * that accepts connections but never answers fails in {@code --timeout} instead of hanging
     * (keep-alive pings would take minutes to notice, a silent listener that speaks no HTTP/2
     * never).
     */
    void watch(String id, Consumer<JobEvent> onEvent) {
        get(id);
        stream(id, stub.watchJob(jobId(id)), onEvent, null);
    }

    /** Streams the trained model's safetensors bytes, chunk by chunk, under {@link #MODEL_DEADLINE}. */
    void model(String id, Consumer<ModelChunk> onChunk) {
        stream(id, stub.withDeadlineAfter(MODEL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS).getModel(jobId(id)),
                onChunk, MODEL_DEADLINE);
    }

    private <T> void stream(String id, Iterator<T> it, Consumer<T> onItem, Duration streamDeadline) {
        try {
            while (it.hasNext()) {
                onItem.accept(it.next());
            }
        } catch (StatusRuntimeException e) {
            throw failure(e, id, streamDeadline);
        }
    }

    private JobServiceGrpc.JobServiceBlockingStub unary() {
        return stub.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static JobId jobId(String id) {
        return JobId.newBuilder().setId(id).build();
    }

    /**
     * What a failed call means to the user. {@code jobId} is the job the call was about, or null.
     * INVALID_ARGUMENT keeps the description's lines, which name the fields at fault.
     */
    ClientFailure failure(StatusRuntimeException e, String jobId) {
        return failure(e, jobId, null);
    }

    /** As {@link #failure(StatusRuntimeException, String)}, for a stream under its own deadline (or null for --timeout's). */
    private ClientFailure failure(StatusRuntimeException e, String jobId, Duration streamDeadline) {
        Status s = e.getStatus();
        String d = s.getDescription();
        if (notGrpc(s)) {
            return new ClientFailure(ExitCodes.ERROR, "the server at " + address + " does not speak gRPC: is that the "
                    + "coordinator's gRPC port (--grpc-port, 50051 by default)?", e);
        }
        return switch (s.getCode()) {
            case UNAVAILABLE -> new ClientFailure(ExitCodes.ERROR, "cannot reach the coordinator at " + address
                    + why(s), e, true);
            case DEADLINE_EXCEEDED -> new ClientFailure(ExitCodes.ERROR, "the coordinator at " + address
                    + " did not answer in time (deadline " + (streamDeadline == null
                    ? seconds(deadline) + "; see --timeout)" : seconds(streamDeadline) + " for the whole transfer)"), e,
                    true);
            case NOT_FOUND -> new ClientFailure(ExitCodes.NOT_FOUND,
                    jobId != null ? "no job " + jobId : d != null ? d : "not found", e);
            case INVALID_ARGUMENT -> new ClientFailure(ExitCodes.ERROR, rejected(d), e);
            default -> new ClientFailure(ExitCodes.ERROR, d != null && !d.isBlank() ? d
                    : "the coordinator at " + address + " answered " + s.getCode(), e);
        };
    }

    /** An HTTP/1 server, or anything else that is no HTTP/2 peer, answered. */
    private static boolean notGrpc(Status s) {
        if ("http2 exception".equals(s.getDescription())) {
            return true;
        }
        for (Throwable t = s.getCause(); t != null; t = t.getCause()) {
            if (t.getClass().getSimpleName().equals("Http2Exception")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The gist of a transport failure, {@code " (connection refused)"}, or nothing: Netty's own
     * messages name native calls and error numbers that mean nothing to a user.
     */
    private static String why(Status s) {
        for (Throwable t = s.getCause(); t != null; t = t.getCause()) {
            String m = t.getMessage() == null ? "" : t.getMessage();
            if (t instanceof java.net.UnknownHostException) {
                return " (unknown host)";
            }
            for (String known : new String[] {"Connection refused", "No route to host", "Network is unreachable",
                    "Connection reset"}) {
                if (m.contains(known)) {
                    return " (" + known.toLowerCase(java.util.Locale.ROOT) + ")";
                }
            }
        }
        String d = s.getDescription();
        // a coordinator that is shutting down says so in its own words
        return d != null && !d.isBlank() && s.getCause() == null ? " (" + d + ")" : "";
    }

    /**
     * The service writes one {@code field.path: reason} per line, after a header line such as
     * {@code invalid job (3 problems):}; each field goes on its own indented line.
     */
    static String rejected(String description) {
        if (description == null || description.isBlank()) {
            return "the coordinator rejected the request (no reason given)";
        }
        String[] lines = description.strip().split("\\R");
        if (lines.length == 1) {
            return lines[0].startsWith("invalid job") ? lines[0] : "invalid job: " + lines[0];
        }
        StringBuilder sb = new StringBuilder();
        int from = 0;
        if (lines[0].strip().endsWith(":")) {
            sb.append(lines[0].strip());
            from = 1;
        } else {
            sb.append("invalid job (").append(lines.length).append(" problems):");
        }
        for (int i = from; i < lines.length; i++) {
            if (!lines[i].isBlank()) {
                sb.append('\n').append("  ").append(lines[i].strip());
            }
        }
        return sb.toString();
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() / 1000.0 + " s";
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
