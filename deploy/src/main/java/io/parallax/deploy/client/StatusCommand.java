package io.parallax.deploy.client;

import io.parallax.proto.v1.EpochMetrics;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobState;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code trainer status [JOB]}: one job's record (state, reason, progress, last epoch's metrics),
 * or without a job a table of the coordinator's jobs, newest first. Times are UTC.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show one job's record, or a table of jobs (newest first).",
        footer = {"", "Exit code: 0 shown, 1 unreachable or other error, 5 no such job.%n"})
public final class StatusCommand extends ClientCommand {

    @Parameters(paramLabel = "JOB", arity = "0..1", description = "a job's id; without it, list the jobs")
    String job;

    @Option(names = "--state", paramLabel = "STATE",
            description = "list only jobs in this state: QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED (any case)")
    String stateName;

    /** The states a job record can be in; the enum's other two values are protobuf's. */
    private static final List<JobState> STATES = List.of(JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED,
            JobState.FAILED, JobState.CANCELLED);

    @Option(names = "--limit", description = "list at most this many jobs (default: ${DEFAULT-VALUE})")
    int limit = 100;

    @Override
    int run(JobClient client) {
        if (job != null) {
            out().print(record(client.get(job)));
            return ExitCodes.OK;
        }
        if (limit < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--limit must be ≥ 1, got " + limit);
        }
        JobState state = JobState.JOB_STATE_UNSPECIFIED;
        if (stateName != null) {
            state = STATES.stream().filter(st -> st.name().equalsIgnoreCase(stateName.strip())).findFirst()
                    .orElseThrow(() -> new CommandLine.ParameterException(spec.commandLine(), "--state must be one of "
                            + STATES.stream().map(Enum::name).toList() + ", got '" + stateName + "'"));
        }
        List<Job> jobs = client.list(state, limit);
        out().print(jobs.isEmpty() ? "no jobs\n" : table(jobs));
        return ExitCodes.OK;
    }

    /** A job's record, one {@code key  value} line per known fact. */
    /**
     * When a note was told: " (TIME, 2 min ago)", for a note tells how things stood then, and its
     * age says whether that is now; an ended job's is history ("resuming from …" was true once),
     * timed against its end. Empty for a note without its time (a record from before notes had one).
     */
    private static String noteTime(Job j, boolean ended) {
        if (j.getLastNoteAtMs() <= 0) {
            return "";
        }
        String age = ended ? age(Math.max(0, j.getFinishedAtMs() - j.getLastNoteAtMs())) + " before it ended"
                : age(System.currentTimeMillis() - j.getLastNoteAtMs()) + " ago";
        return " (" + time(j.getLastNoteAtMs()) + ", " + age + ")";
    }

    static String record(Job j) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"id", j.getId()});
        if (!j.getName().isEmpty()) {
            rows.add(new String[] {"name", j.getName()});
        }
        rows.add(new String[] {"state", j.getState().toString()});
        if (!j.getReason().isEmpty()) {
            rows.add(new String[] {"reason", j.getReason()});
        }
        // an ended job's reason says it all, but a failed or cancelled one's last note may say
        // what a resume needs to know (no checkpoint could be written)
        if (j.getState() != JobState.SUCCEEDED && !j.getLastNote().isEmpty()) {
            boolean ended = j.getFinishedAtMs() > 0 && j.getState() != JobState.QUEUED && j.getState() != JobState.RUNNING;
            rows.add(new String[] {ended ? "last note" : "note", j.getLastNote() + noteTime(j, ended)});
        }
        if (j.getState() == JobState.QUEUED && j.getQueuePosition() >= 0) {
            rows.add(new String[] {"queue", j.getQueuePosition() == 0 ? "next" : j.getQueuePosition() + " job(s) ahead"});
        }
        rows.add(new String[] {"submitted", time(j.getSubmittedAtMs())});
        if (j.getStartedAtMs() > 0) {
            rows.add(new String[] {"started", time(j.getStartedAtMs())});
        }
        if (j.getResumedAtMs() > 0) {
            rows.add(new String[] {"resumed", time(j.getResumedAtMs()) + " (from its checkpoint)"});
        }
        if (j.getFinishedAtMs() > 0) {
            rows.add(new String[] {"finished", time(j.getFinishedAtMs())});
        }
        // epochs done, not the one in progress: "epoch 2/8" beside a checkpoint "in epoch 3" read as a contradiction
        rows.add(new String[] {"progress", String.format(Locale.ROOT, "%d/%d epochs done, step %,d/%,d (%d%%)",
                j.getEpochsDone(), j.getEpochsTotal(), j.getStepsDone(), j.getStepsTotal(),
                (int) Math.floor(ProgressBar.fraction(j.getStepsDone(), j.getStepsTotal()) * 100))});
        if (j.getWorkers() > 0) {
            int asked = j.hasSpec() ? j.getSpec().getWorkers() : 0;
            // a job that asked for more than it had (one could not prepare it, or left) says so
            rows.add(new String[] {"workers", j.getWorkers() + (asked > j.getWorkers()
                    ? " of the " + asked + " the job asked for" + (j.getState() == JobState.RUNNING ? ""
                            : " (at its last step; the coordinator's log says why)") : "")});
        }
        if (j.getEpochsCount() > 0) {
            rows.add(new String[] {"last epoch", WatchPrinter.epochLine(j.getEpochs(j.getEpochsCount() - 1), j.getEpochsTotal())});
        }
        if (j.getCheckpointStep() > 0) {
            rows.add(new String[] {"checkpoint", where(j, j.getCheckpointStep()) + " ('trainer resume " + j.getId()
                    + "' goes on from there)"});
        }
        rows.add(new String[] {"model", j.getModelAvailable() ? "available ('trainer model " + j.getId() + " --out FILE')"
                : "not available"});
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            sb.append(String.format(Locale.ROOT, "%-11s %s%n", r[0], r[1]));
        }
        return sb.toString();
    }

    /**
     * Where {@code step} steps leave {@code j}, in words: "after epoch 4", or "in epoch 5, after its
     * step 84 of 360" (the record's steps_total is its epochs' steps, each epoch the same).
     */
    static String where(Job j, long step) {
        long perEpoch = j.getEpochsTotal() > 0 ? j.getStepsTotal() / j.getEpochsTotal() : 0;
        if (perEpoch <= 0) {
            return String.format(Locale.ROOT, "after step %,d", step);
        }
        long epochs = step / perEpoch;
        long inEpoch = step % perEpoch;
        return inEpoch == 0 ? "after epoch " + epochs
                : String.format(Locale.ROOT, "in epoch %d, after its step %,d of %,d", epochs + 1, inEpoch, perEpoch);
    }

    /** Jobs as a table with a header row: id, state, epochs done, last validation accuracy, submission time, name. */
    static String table(List<Job> jobs) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"ID", "STATE", "EPOCHS", "VAL_ACC", "SUBMITTED", "NAME"});
        for (Job j : jobs) {
            EpochMetrics last = j.getEpochsCount() == 0 ? null : j.getEpochs(j.getEpochsCount() - 1);
            rows.add(new String[] {j.getId(), j.getState().toString(), j.getEpochsDone() + "/" + j.getEpochsTotal(),
                    last == null ? "-" : ProgressBar.number(last.getValAccuracy()), time(j.getSubmittedAtMs()), j.getName()});
        }
        int[] widths = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int c = 0; c < r.length; c++) {
                widths[c] = Math.max(widths[c], r[c].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < r.length; c++) {
                line.append(c == r.length - 1 ? r[c] : String.format("%-" + widths[c] + "s  ", r[c]));
            }
            sb.append(line.toString().stripTrailing()).append(System.lineSeparator());
        }
        return sb.toString();
    }

    /** A duration in words, to the second: "42 s", "3 min 5 s", "2 h 10 min". */
    static String age(long millis) {
        long s = Math.max(0, millis) / 1000;
        return s < 60 ? s + " s" : s < 3600 ? s / 60 + " min " + s % 60 + " s" : s / 3600 + " h " + s % 3600 / 60 + " min";
    }

    /** An ISO-8601 UTC time to the second, or {@code -} for 0 (not reached). */
    static String time(long epochMs) {
        return epochMs <= 0 ? "-" : Instant.ofEpochMilli(epochMs).truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
