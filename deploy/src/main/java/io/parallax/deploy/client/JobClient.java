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

    /** Between two tries to reach a coordinator that refused the connection. */
    private static final long RETRY_MILLIS = 500;

    private final ServerAddress address;
    private final Duration deadline;
    /** How long {@link #submit}'s submission itself may take: the coordinator reads the job's data first. */
    private Duration submissionDeadline;
    private final Duration connectWait;
    private final Consumer<String> notice;
    private final ManagedChannel channel;
    private final JobServiceGrpc.JobServiceBlockingStub stub;

    /**
     * @param deadline how long each unary call may take, connecting included
     */
    JobClient(ServerAddress address, Duration deadline) {
        this(address, deadline, Duration.ZERO, notice -> { });
    }

    /**
     * @param connectWait how long to keep trying a call whose connection is refused (the
     *                    coordinator is being restarted); zero to fail at once
     * @param notice      told, once, that the client is trying again
     */
    JobClient(ServerAddress address, Duration deadline, Duration connectWait, Consumer<String> notice) {
        this.address = address;
        this.deadline = deadline;
        this.submissionDeadline = deadline;
        this.connectWait = connectWait;
        this.notice = notice;
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

    /** Gives {@link #submit}'s submission its own deadline; every other call keeps the client's. */
    JobClient submissionDeadline(Duration d) {
        this.submissionDeadline = d;
        return this;
    }

    ServerAddress address() {
        return address;
    }

    /**
     * Submits a job; returns its id. The coordinator reads the job's data before it answers, and
     * queues nothing for a submitter whose deadline passed meanwhile; an answer already on its way
     * when the deadline passed is lost, though, with the job queued, which the message says.
     */
    String submit(JobSpec spec) {
        // a quick request first, under the client's deadline: a coordinator that accepts
        // connections and never answers fails in seconds, not after the submission's own
        // deadline, which leaves time to read the data
        if (submissionDeadline.compareTo(deadline) > 0) {
            retrying(() -> unary().listJobs(ListJobsRequest.newBuilder().setLimit(1).build()), null);
        }
        try {
            return retrying(() -> stub.withDeadlineAfter(submissionDeadline.toMillis(), TimeUnit.MILLISECONDS)
                    .submitJob(spec).getId(), null, submissionDeadline.equals(deadline) ? null
                    : seconds(submissionDeadline) + " for the submission; see --timeout");
        } catch (ClientFailure f) {
            if (f.getCause() instanceof StatusRuntimeException e
                    && e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED) {
                throw new ClientFailure(f.exitCode(), f.getMessage() + "; it reads the job's data before it answers, "
                        + "and queues no job whose submitter stopped waiting, but one answered just too late is "
                        + "queued all the same: look at `trainer status` before you submit it again", e, true);
            }
            throw f;
        }
    }

    /** One job's record. */
    Job get(String id) {
        return retrying(() -> unary().getJob(jobId(id)), id);
    }

    /** Jobs, newest first; {@code state} {@code JOB_STATE_UNSPECIFIED} for all, {@code limit} 0 for the server's default. */
    List<Job> list(JobState state, int limit) {
        ListJobsRequest request = ListJobsRequest.newBuilder().setState(state).setLimit(limit).build();
        return retrying(() -> unary().listJobs(request).getJobsList(), null);
    }

    /** Asks the coordinator to cancel a job; returns the record it answers with. */
    Job cancel(String id) {
        return retrying(() -> unary().cancelJob(jobId(id)), id);
    }

    /** Asks the coordinator to queue a failed or cancelled job again from its checkpoint; returns the record, QUEUED. */
    Job resume(String id) {
        return retrying(() -> unary().resumeJob(jobId(id)), id);
    }

    /** Asks the coordinator to delete an ended job; returns the record as it was. */
    Job delete(String id) {
        return retrying(() -> unary().deleteJob(jobId(id)), id);
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
        // under --timeout first, as watch does: a coordinator that accepts the connection and never
        // answers (stopped, or not a coordinator) fails in seconds, not after the transfer's deadline
        get(id);
        // a refused connection delivers no chunk, so trying again under --wait starts nothing twice
        retrying(() -> {
            Iterator<ModelChunk> it = stub.withDeadlineAfter(MODEL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .getModel(jobId(id));
            while (it.hasNext()) {
                onChunk.accept(it.next());
            }
            return null;
        }, id, seconds(MODEL_DEADLINE) + " for the whole transfer");
    }

    private <T> void stream(String id, Iterator<T> it, Consumer<T> onItem, String deadlineWords) {
        try {
            while (it.hasNext()) {
                onItem.accept(it.next());
            }
        } catch (StatusRuntimeException e) {
            throw failure(e, id, deadlineWords);
        }
    }

    /**
     * Makes a unary call, again every half second while the connection is refused, for up to
     * {@code connectWait}: a refused connection means the request never left, so even a
     * submission is safe to send again (an answer lost on the way back is not retried).
     */
    private <T> T retrying(java.util.function.Supplier<T> call, String jobId) {
        return retrying(call, jobId, null);
    }

    /**
     * As {@link #retrying(java.util.function.Supplier, String)}, for a call under a deadline of its
     * own, which {@code deadlineWords} describe ("600 s for the whole transfer"; null for {@code --timeout}'s).
     */
    private <T> T retrying(java.util.function.Supplier<T> call, String jobId, String deadlineWords) {
        long giveUpAt = System.nanoTime() + connectWait.toNanos();
        boolean told = false;
        while (true) {
            try {
                return call.get();
            } catch (StatusRuntimeException e) {
                if (!connectionRefused(e) || System.nanoTime() + RETRY_MILLIS * 1_000_000 > giveUpAt) {
                    throw failure(e, jobId, deadlineWords);
                }
                if (!told) {
                    told = true;
                    notice.accept("cannot reach the coordinator at " + address + why(e.getStatus())
                            + "; trying again for up to " + seconds(connectWait) + " (--wait)");
                }
                try {
                    Thread.sleep(RETRY_MILLIS);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw failure(e, jobId, deadlineWords);
                }
                // the channel would otherwise wait out its growing back-off (1 s, 1.6 s, 2.6 s…)
                // before it connects again, and fail the calls made meanwhile at once
                channel.resetConnectBackoff();
            }
        }
    }

    /** The call failed to connect, before any request was sent. */
    private static boolean connectionRefused(StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
            return false;
        }
        for (Throwable t = e.getStatus().getCause(); t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException) {
                return true;
            }
        }
        return false;
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

    /** As {@link #failure(StatusRuntimeException, String)}, for a call under its own deadline, in words (null for --timeout's). */
    private ClientFailure failure(StatusRuntimeException e, String jobId, String deadlineWords) {
        Status s = e.getStatus();
        String d = s.getDescription();
        if (notGrpc(s)) {
            return new ClientFailure(ExitCodes.ERROR, "the server at " + address + " does not speak gRPC: is that the "
                    + "coordinator's gRPC port (--grpc-port, 50051 by default)?", e);
        }
        return switch (s.getCode()) {
            case UNAVAILABLE -> {
                String why = why(s);
                yield new ClientFailure(ExitCodes.ERROR, "cannot reach the coordinator at " + address + why + hint(why), e,
                        true);
            }
            case DEADLINE_EXCEEDED -> new ClientFailure(ExitCodes.ERROR, "the coordinator at " + address
                    + " did not answer in time (deadline " + (deadlineWords == null
                    ? seconds(deadline) + "; see --timeout)" : deadlineWords + ")"), e,
                    true);
            case NOT_FOUND -> new ClientFailure(ExitCodes.NOT_FOUND,
                    jobId != null ? "no job " + jobId + likely(jobId) : d != null ? d : "not found", e);
            case INVALID_ARGUMENT -> new ClientFailure(ExitCodes.ERROR, rejected(d), e);
            // gRPC's "Method not found: parallax.v1.JobService/ResumeJob" names no cause a user knows
            case UNIMPLEMENTED -> new ClientFailure(ExitCodes.ERROR, "the coordinator at " + address + " does not know "
                    + "this request (" + (d == null ? "UNIMPLEMENTED" : d) + "): it runs an older version of Parallax "
                    + "than this client; upgrade it, or use a client of its version", e);
            default -> new ClientFailure(ExitCodes.ERROR, d != null && !d.isBlank() ? d
                    : "the coordinator at " + address + " answered " + s.getCode(), e);
        };
    }

    /** For an id typed as its number alone: the id it likely means. */
    private static String likely(String jobId) {
        return jobId.matches("\\d{1,6}") ? String.format(" (ids are written in full: job-%06d)", Integer.parseInt(jobId))
                : "";
    }

    /** A connection the server took and dropped without a word, as a cluster (Akka) port does. */
    private static final String CLOSED = " (the server closed the connection)";

    /** For an address that may be the wrong one: which to give instead. */
    private String hint(String why) {
        if (why.equals(" (connection reset)") || why.equals(CLOSED)) {
            // the coordinator's cluster port (Akka) takes the connection and drops it
            return ": is that the coordinator's gRPC port (--grpc-port; the run folder's grpc-address) rather than its "
                    + "cluster port?";
        }
        if (why.equals(" (connection refused)") && address.toString().equals(ServerAddress.DEFAULT)) {
            return ", the default address: is the coordinator running? One started with another gRPC port is reached "
                    + "with --server HOST:PORT or PARALLAX_SERVER (start-cluster.sh prints it; the run folder's "
                    + "grpc-address holds it)";
        }
        return "";
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
        if (d != null && (d.startsWith("Network closed for unknown reason")
                || d.startsWith("Connection closing while performing protocol negotiation"))) {
            return CLOSED; // gRPC's words when the peer drops the connection before it says anything
        }
        // a coordinator that is shutting down says so in its own words
        return d != null && !d.isBlank() && s.getCause() == null ? " (" + d + ")" : "";
    }

    /**
     * The service writes one {@code field.path: reason} per line, after a header line such as
     * {@code invalid job (3 problems):}; each field goes on its own indented line.
     */
    static String rejected(String description) {
        return rejected(description, "");
    }

    /**
     * As {@link #rejected(String)}, each problem starting with {@code file} (a job file's path and
     * ": "), as {@code trainer local} names the file its problems are in.
     */
    static String rejected(String description, String file) {
        if (description == null || description.isBlank()) {
            return "the coordinator rejected the request (no reason given)";
        }
        String[] lines = description.strip().split("\\R");
        if (lines.length == 1) {
            String problem = lines[0].startsWith("invalid job: ") ? lines[0].substring("invalid job: ".length())
                    : lines[0];
            return lines[0].startsWith("invalid job") && !lines[0].startsWith("invalid job: ") ? lines[0]
                    : "invalid job: " + file + problem;
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
                sb.append('\n').append("  ").append(file).append(lines[i].strip());
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
