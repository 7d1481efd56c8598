package io.parallax.deploy.client;

import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code trainer cancel JOB}: cancels a queued or running job. A running job stops after its
 * current step, so the record may still say RUNNING; {@code trainer watch JOB} shows the end.
 */
@Command(name = "cancel", mixinStandardHelpOptions = true,
        description = "Cancel a queued or running job (a running one stops after its current step).",
        footer = {"", "Exit code: 0 cancelled or cancelling, 1 already ended or unreachable, 5 no such job.%n"})
public final class CancelCommand extends ClientCommand {

    @Parameters(paramLabel = "JOB", description = "the job's id")
    String job;

    @Override
    int run(JobClient client) {
        Job j = client.cancel(job);
        out().println(j.getState() == JobState.CANCELLED ? j.getId() + " CANCELLED"
                : j.getId() + " cancelling (" + j.getState() + "; it stops after its current step)");
        return ExitCodes.OK;
    }
}
