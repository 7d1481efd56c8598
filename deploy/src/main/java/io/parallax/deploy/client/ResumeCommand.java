package io.parallax.deploy.client;

import io.parallax.proto.v1.Job;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code trainer resume JOB}: queues again a job that FAILED or was CANCELLED after a checkpoint
 * ({@code trainer status JOB} shows it); it goes on from that checkpoint's epoch when its turn
 * comes, and ends with the weights an uninterrupted run would have had.
 */
@Command(name = "resume", mixinStandardHelpOptions = true,
        description = {"Queue again a FAILED or CANCELLED job that kept a checkpoint: it goes on from there.",
                "'trainer status JOB' shows the checkpoint a job kept (its 'checkpoint' row)."},
        footer = {"", "Exit code: 0 queued (with --watch: the job SUCCEEDED), 1 not resumable (running, SUCCEEDED, "
                + "no checkpoint), queue full or unreachable, 3 FAILED, 4 CANCELLED, 5 no such job.%n"})
public final class ResumeCommand extends ClientCommand {

    @Parameters(paramLabel = "JOB", description = "the job's id")
    String job;

    @Option(names = "--watch", description = "then follow the job until it ends, as 'trainer watch'")
    boolean watch;

    @Mixin
    ProgressOption progress;

    @Mixin
    ReconnectOption reconnect;

    @Override
    int run(JobClient client) {
        Duration reconnectWindow = reconnect.window(); // checked before the job is queued
        Job j = client.resume(job);
        out().println(j.getId() + " QUEUED (" + (j.getQueuePosition() <= 0 ? "next"
                : j.getQueuePosition() + " job(s) ahead") + "): it resumes from its checkpoint "
                + StatusCommand.where(j, j.getStepsDone()) + " (" + j.getEpochsTotal() + " epoch(s) in all)");
        out().flush();
        return watch ? WatchCommand.follow(client, job, out(), err(), progress.style(), reconnectWindow) : ExitCodes.OK;
    }
}
