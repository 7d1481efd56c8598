package io.parallax.deploy.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.parallax.deploy.JobFileOption;
import io.parallax.proto.v1.JobSpec;
import io.parallax.worker.job.InvalidJobException;
import io.parallax.worker.job.JobFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code trainer submit --job FILE}: sends a job file to the coordinator and prints the id it
 * assigns, alone on a line, so that {@code id=$(trainer submit --job j.json)} captures it.
 * Relative paths in the file are made absolute against the file's folder first
 * ({@link JobFiles#read}); the coordinator checks them against its data roots.
 */
@Command(name = "submit", mixinStandardHelpOptions = true,
        description = "Submit a job file (JSON JobSpec) to the coordinator and print its id.",
        footer = {"", "The coordinator reads the job's data before it answers: without --timeout the submission "
                + "waits up to 600 s for that (after a first request answered within 10 s), every other request "
                + "10 s; --timeout sets them all.",
                "", "Exit code: 0 submitted (with --watch: the job SUCCEEDED), 1 rejected or unreachable "
                + "(a rejected job lists one 'field: problem' per line), 3 FAILED, 4 CANCELLED.%n"})
public final class SubmitCommand extends ClientCommand {

    @Mixin
    JobFileOption job;

    @Option(names = "--watch", description = "then follow the job until it ends, as 'trainer watch'")
    boolean watch;

    @Mixin
    ProgressOption progress;

    @Mixin
    ReconnectOption reconnect;

    /**
     * How long the submission itself may take unless {@code --timeout} says: the coordinator reads
     * the job's data before it answers, and a folder of thousands of images takes minutes on a
     * busy machine. A first request under {@code --timeout}'s default finds out a coordinator that
     * does not answer at all, and every other request of the command keeps that deadline.
     */
    static final java.time.Duration SUBMISSION_DEADLINE = java.time.Duration.ofSeconds(600);

    @Override
    int run(JobClient client) throws IOException {
        Duration reconnectWindow = reconnect.window(); // checked before the job is submitted
        Path jobFile = job.file();
        JobSpec spec;
        try {
            spec = JobFiles.read(jobFile);
        } catch (InvalidJobException e) {
            throw new ClientFailure(ExitCodes.ERROR, e.getMessage(), e);
        }
        String id;
        try {
            id = (timeoutGiven() ? client : client.submissionDeadline(SUBMISSION_DEADLINE)).submit(spec);
        } catch (ClientFailure f) {
            // the coordinator's problems with the job, each named by its file, as trainer local does
            if (f.getCause() instanceof StatusRuntimeException e && e.getStatus().getCode() == Status.Code.INVALID_ARGUMENT) {
                throw new ClientFailure(ExitCodes.ERROR, JobClient.rejected(e.getStatus().getDescription(),
                        jobFile + ": "), e);
            }
            throw f;
        }
        out().println(id);
        out().flush();
        return watch ? WatchCommand.follow(client, id, out(), err(), progress.style(), reconnectWindow) : ExitCodes.OK;
    }
}
