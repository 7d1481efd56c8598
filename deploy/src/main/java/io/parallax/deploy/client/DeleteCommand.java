package io.parallax.deploy.client;

import io.parallax.proto.v1.Job;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code trainer delete JOB...}: deletes ended jobs from the coordinator — record, metrics and
 * model — so that a long-lived coordinator's state directory does not grow for ever. Queued or
 * running jobs are refused (cancel them first).
 */
@Command(name = "delete", mixinStandardHelpOptions = true,
        description = "Delete ended jobs from the coordinator: their records, metrics and models.",
        footer = {"", "Exit code: 0 all deleted, 1 one not ended or unreachable, 5 no such job (the first failure "
                + "stops the command).%n"})
public final class DeleteCommand extends ClientCommand {

    @Parameters(paramLabel = "JOB", arity = "1..*", description = "the jobs' ids")
    List<String> jobs;

    @Override
    int run(JobClient client) {
        for (String id : jobs) {
            Job j = client.delete(id);
            out().println(j.getId() + " deleted (" + j.getState() + ")");
        }
        return ExitCodes.OK;
    }
}
