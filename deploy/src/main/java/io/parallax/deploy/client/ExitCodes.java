package io.parallax.deploy.client;

import io.parallax.proto.v1.JobState;

/**
 * The exit codes of the {@code trainer} client commands ({@code submit}, {@code status},
 * {@code watch}, {@code cancel}, {@code model}), which scripts can rely on. They extend the
 * launcher's codes (0 done, 1 error, 2 usage) without changing them.
 */
public final class ExitCodes {

    /** Done; for {@code watch} and {@code submit --watch}: the job SUCCEEDED. */
    public static final int OK = 0;
    /** An error: the coordinator cannot be reached, refused the request, or a file could not be read or written. */
    public static final int ERROR = 1;
    /** Bad command-line usage (picocli's own code). */
    public static final int USAGE = 2;
    /** The watched job ended FAILED. */
    public static final int JOB_FAILED = 3;
    /** The watched job ended CANCELLED. */
    public static final int JOB_CANCELLED = 4;
    /** The coordinator knows no job with that id (gRPC NOT_FOUND). */
    public static final int NOT_FOUND = 5;
    /**
     * {@code trainer coordinator}: its cluster node was downed (or stopped) under it, so it can no
     * longer reach workers; it stops so that whatever supervises it starts it again.
     */
    public static final int NODE_LOST = 6;

    /**
     * A one-process run ({@code demo}, {@code local}, {@code train}) stopped by Ctrl-C (130) or
     * SIGTERM (143, the JVM's 128 + signal): it says how far it got; no model is written.
     */
    public static final int INTERRUPTED = 130;

    /**
     * {@code watch} (and {@code submit}/{@code resume --watch}) whose output was closed by its
     * reader ({@code trainer watch JOB | head}): 141, what a shell reports for a process that
     * SIGPIPE ended; the job itself is not touched.
     */
    public static final int OUTPUT_CLOSED = 141;

    /** The table shown in {@code trainer --help}, one line per code. */
    public static final String HELP = "Exit codes:%n"
            + "  0  done (watch: the job SUCCEEDED)%n"
            + "  1  error: the job could not run, coordinator unreachable, request refused%n"
            + "  2  bad command-line usage%n"
            + "  3  the watched job FAILED%n"
            + "  4  the watched job was CANCELLED%n"
            + "  5  no such job%n"
            + "  6  coordinator: its cluster node was downed; start it again%n"
            + "     (queued jobs are kept, the running one resumes from its checkpoint)%n"
            + "  130, 143  demo, local, train: interrupted (Ctrl-C, SIGTERM); no model written%n"
            + "  141  watch: its output was closed (trainer watch JOB | head); the job goes on%n";

    private ExitCodes() {}

    /** The exit code of a watch that saw the job end in {@code state}. */
    public static int of(JobState state) {
        return switch (state) {
            case SUCCEEDED -> OK;
            case FAILED -> JOB_FAILED;
            case CANCELLED -> JOB_CANCELLED;
            default -> ERROR;
        };
    }
}
