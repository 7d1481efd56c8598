package io.parallax.deploy.client;

import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobState;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code trainer delete JOB...}: deletes ended jobs from the coordinator — record, metrics,
 * model and a kept checkpoint — so that a long-lived coordinator's state directory does not grow
 * for ever; {@code --older-than DAYS} picks every ended job that finished before then. Queued or
 * running jobs are refused (cancel them first); a refused or unknown job does not stop the
 * others, a coordinator that cannot be reached does.
 */
@Command(name = "delete", mixinStandardHelpOptions = true,
        description = {"Delete ended jobs from the coordinator: their records, metrics, models and kept checkpoints.",
                "Name the jobs, or pick every ended one that finished more than --older-than days ago "
                        + "(--state narrows it to one state)."},
        footer = {"", "Exit code: 0 all deleted, 1 one was refused (not ended) or the coordinator unreachable, "
                + "5 one was unknown (and none refused); a refused or unknown job does not stop the others.%n"})
public final class DeleteCommand extends ClientCommand {

    @Parameters(paramLabel = "JOB", arity = "0..*", description = "the jobs' ids")
    List<String> jobs = new ArrayList<>();

    @Option(names = "--older-than", paramLabel = "DAYS",
            description = "every ended job that finished more than DAYS days ago (fractions allowed: 0.5 is 12 hours)")
    Double olderThanDays;

    @Option(names = "--state", paramLabel = "STATE",
            description = "with --older-than: only jobs in this state, SUCCEEDED, FAILED or CANCELLED (any case)")
    String stateName;

    /** How many ended jobs one --older-than looks through: far more than a coordinator keeps. */
    private static final int LIST_LIMIT = 1_000_000;

    @Override
    int run(JobClient client) {
        if (olderThanDays != null && !jobs.isEmpty()) {
            // either picks the jobs: both at once would delete more than the ids named, or fail on
            // an id --older-than deleted first
            throw new CommandLine.ParameterException(spec.commandLine(), "name the jobs to delete, or give "
                    + "--older-than DAYS, not both");
        }
        List<String> ids = new ArrayList<>(jobs);
        if (olderThanDays != null) {
            ids.addAll(endedBefore(client));
        } else if (stateName != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--state goes with --older-than");
        }
        if (ids.isEmpty()) {
            if (olderThanDays == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "name the jobs to delete, or give "
                        + "--older-than DAYS");
            }
            out().println("no ended job finished more than " + olderThanDays + " day(s) ago");
            return ExitCodes.OK;
        }
        int code = ExitCodes.OK;
        for (String id : ids) {
            try {
                Job j = client.delete(id);
                out().println(j.getId() + " deleted (" + j.getState() + ")");
            } catch (ClientFailure f) {
                if (f.connectionLost()) {
                    throw f; // the rest would fail the same way
                }
                out().flush();
                spec.commandLine().getErr().println("trainer: " + f.getMessage());
                spec.commandLine().getErr().flush();
                code = f.exitCode() == ExitCodes.NOT_FOUND && code != ExitCodes.ERROR ? ExitCodes.NOT_FOUND
                        : ExitCodes.ERROR;
            }
        }
        return code;
    }

    /** The ended jobs (in --state, if given) that finished before now minus --older-than. */
    private List<String> endedBefore(JobClient client) {
        if (!(olderThanDays >= 0 && olderThanDays <= 36_500)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--older-than must be between 0 and 36500 "
                    + "days, got " + olderThanDays);
        }
        JobState state = JobState.JOB_STATE_UNSPECIFIED;
        if (stateName != null) {
            state = List.of(JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED).stream()
                    .filter(s -> s.name().equals(stateName.strip().toUpperCase(Locale.ROOT))).findFirst()
                    .orElseThrow(() -> new CommandLine.ParameterException(spec.commandLine(), "--state must be "
                            + "SUCCEEDED, FAILED or CANCELLED (ended jobs only), got '" + stateName + "'"));
        }
        long before = System.currentTimeMillis() - Math.round(olderThanDays * 86_400_000);
        List<String> ids = new ArrayList<>();
        for (Job j : client.list(state, LIST_LIMIT)) {
            boolean ended = j.getState() == JobState.SUCCEEDED || j.getState() == JobState.FAILED
                    || j.getState() == JobState.CANCELLED;
            // the state checked here too: deleting is not to rest on another program's filter
            boolean inState = state == JobState.JOB_STATE_UNSPECIFIED || j.getState() == state;
            if (ended && inState && j.getFinishedAtMs() > 0 && j.getFinishedAtMs() <= before) {
                ids.add(j.getId());
            }
        }
        Collections.reverse(ids); // oldest first, as they were submitted
        return ids;
    }
}
