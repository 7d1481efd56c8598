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
        footer = {"", "Exit code: 0 submitted (with --watch: the job SUCCEEDED), 1 rejected or unreachable "
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
     * The coordinator reads the job's data before it answers: a folder of thousands of images
     * takes minutes on a busy machine. A coordinator that never answers is found out in
     * {@link JobClient#FIRST_ANSWER_DEADLINE} all the same.
     */
    @Override
    double defaultTimeoutSeconds() {
        return 600;
    }

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
            id = client.submit(spec);
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
