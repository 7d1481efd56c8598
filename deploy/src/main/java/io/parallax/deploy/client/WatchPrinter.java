package io.parallax.deploy.client;

import io.parallax.proto.v1.EpochMetrics;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobEvent;
import io.parallax.proto.v1.JobState;
import io.parallax.proto.v1.StepProgress;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Shows a job's {@code WatchJob} events as they come. Two styles:
 * <ul>
 *   <li>{@link Style#BAR} for a terminal: a {@link ProgressBar} redrawn in place with {@code \r}
 *       (at most every {@link #REDRAW_NANOS}), replaced by a line per finished epoch;</li>
 *   <li>{@link Style#PLAIN} for logs and CI: a line per epoch, and a progress line each time a
 *       tenth of the epoch's steps is done, so the output depends on the events only.</li>
 * </ul>
 * Both end with a line giving the final state.
 */
public final class WatchPrinter {

    /** How the progress is drawn. */
    public enum Style { BAR, PLAIN }

    /** Minimum time between two redraws of the bar: faster than that only costs the terminal. */
    static final long REDRAW_NANOS = 100_000_000L;

    private final PrintWriter out;
    private final Style style;
    private final LongSupplier nanoClock;
    private String jobId = "";
    private int epochsTotal;
    private double accuracy = Double.NaN;
    private int progressEpoch;
    private int progressTenths;
    private int barLength;
    private long lastDraw;
    private JobState state = JobState.JOB_STATE_UNSPECIFIED;
    private boolean finished;
    private int lastEpochShown;

    /**
     * @param nanoClock {@link System#nanoTime} or a test's clock; paces the bar's redraws
     */
    public WatchPrinter(PrintWriter out, Style style, LongSupplier nanoClock) {
        this.out = out;
        this.style = style;
        this.nanoClock = nanoClock;
        this.lastDraw = nanoClock.getAsLong() - REDRAW_NANOS;
    }

    /** Shows one event. */
    public void accept(JobEvent event) {
        switch (event.getEventCase()) {
            case SNAPSHOT -> snapshot(event.getSnapshot());
            case STATE -> {
                state = event.getState().getState();
                if (!terminal(state)) {
                    line("state " + state + (event.getState().getReason().isEmpty() ? "" : ": " + event.getState().getReason()));
                }
            }
            case STEP -> step(event.getStep());
            case EPOCH -> epoch(event.getEpoch());
            case FINISHED -> finish(event.getFinished());
            case NOTE -> line("note: " + event.getNote());
            case EVENT_NOT_SET -> { }
            default -> { }
        }
        // flushes; a PrintWriter keeps a write error to itself, so a reader gone (`watch … | head`)
        // would otherwise leave the watch following a job nobody reads, for hours
        if (out.checkError()) {
            throw new OutputClosed();
        }
    }

    /** The output of a watch cannot be written (its reader went away): the watch ends, without a word. */
    public static final class OutputClosed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        OutputClosed() {
            super("the output was closed", null, false, false);
        }
    }

    /** The job's last state seen: from the final record, else from the last state change. */
    public JobState state() {
        return state;
    }

    /** The number of the last epoch shown, 0 before the first. */
    public int lastEpochShown() {
        return lastEpochShown;
    }

    /** Whether the final record has arrived (the stream's last event). */
    public boolean finished() {
        return finished;
    }

    private void snapshot(Job job) {
        jobId = job.getId();
        epochsTotal = job.getEpochsTotal();
        state = job.getState();
        StringBuilder sb = new StringBuilder(job.getId());
        if (!job.getName().isEmpty()) {
            sb.append(" (").append(job.getName()).append(')');
        }
        sb.append(": ").append(job.getState());
        if (job.getState() == JobState.QUEUED && job.getQueuePosition() >= 0) {
            sb.append(job.getQueuePosition() == 0 ? ", next in the queue"
                    : ", " + job.getQueuePosition() + " job(s) ahead in the queue");
        }
        line(sb.toString());
        for (EpochMetrics e : job.getEpochsList()) {
            epoch(e);
        }
        if ((job.getState() == JobState.RUNNING || job.getState() == JobState.QUEUED) && !job.getLastNote().isEmpty()) {
            line("note: " + job.getLastNote()); // told before this watch began
        }
    }

    private void step(StepProgress s) {
        if (s.getEpoch() != progressEpoch) {
            progressEpoch = s.getEpoch();
            progressTenths = 0;
        }
        if (style == Style.BAR) {
            long now = nanoClock.getAsLong();
            if (now - lastDraw >= REDRAW_NANOS || s.getStepInEpoch() >= s.getStepsInEpoch()) {
                lastDraw = now;
                String bar = ProgressBar.render(s, epochsTotal, accuracy, ProgressBar.DEFAULT_WIDTH);
                // pad over the remains of a longer previous bar instead of relying on ANSI codes
                out.print("\r" + bar + " ".repeat(Math.max(0, barLength - bar.length())));
                barLength = bar.length();
            }
            return;
        }
        int tenths = (int) Math.floor(ProgressBar.fraction(s.getStepInEpoch(), s.getStepsInEpoch()) * 10);
        // 100% is left to the epoch line that follows
        if (tenths > progressTenths && tenths < 10) {
            progressTenths = tenths;
            out.println(String.format(Locale.ROOT, "%s  %3d%%  step %d/%d  loss %s  %s samples/s  %s left",
                    ProgressBar.epoch(s.getEpoch(), epochsTotal), tenths * 10, s.getStepInEpoch(), s.getStepsInEpoch(),
                    ProgressBar.number(s.getLoss()), ProgressBar.rate(s.getSamplesPerSecond()),
                    ProgressBar.duration(s.getEpochSecondsLeft())));
        }
    }

    private void epoch(EpochMetrics e) {
        // a watch that reconnected gets the job's epochs again (its snapshot holds them), and a
        // job resumed from a checkpoint does the epochs after it again: each is shown once
        if (e.getEpoch() <= lastEpochShown) {
            return;
        }
        lastEpochShown = e.getEpoch();
        if (!Double.isNaN(e.getValAccuracy())) {
            accuracy = e.getValAccuracy();
        }
        line(epochLine(e, epochsTotal));
    }

    private void finish(Job job) {
        finished = true;
        state = job.getState();
        StringBuilder sb = new StringBuilder(job.getId().isEmpty() ? jobId : job.getId()).append(' ').append(job.getState());
        if (!job.getReason().isEmpty()) {
            sb.append(": ").append(job.getReason());
        }
        if (job.getState() == JobState.SUCCEEDED) {
            sb.append(" after ").append(job.getEpochsDone()).append(" epoch(s)");
            if (job.getStartedAtMs() > 0 && job.getFinishedAtMs() >= job.getStartedAtMs()) {
                sb.append(String.format(Locale.ROOT, " in %.1f s", (job.getFinishedAtMs() - job.getStartedAtMs()) / 1000.0));
                if (job.getResumedAtMs() > 0) {
                    sb.append(" (from its first start; it resumed from a checkpoint)");
                }
            }
            if (job.getEpochsCount() > 0) {
                EpochMetrics last = job.getEpochs(job.getEpochsCount() - 1);
                sb.append(": train_loss ").append(ProgressBar.number(last.getTrainLoss()))
                        .append("  val_accuracy ").append(ProgressBar.number(last.getValAccuracy()));
            }
        }
        if (job.getCheckpointStep() > 0) {
            sb.append(System.lineSeparator()).append("its checkpoint ").append(StatusCommand.where(job,
                    job.getCheckpointStep())).append(" is kept: 'trainer resume ").append(job.getId())
                    .append("' goes on from there");
        }
        if (job.getState() != JobState.SUCCEEDED && job.getModelAvailable()) {
            // a job cancelled while it ran: what it had trained is to be had all the same
            sb.append(System.lineSeparator()).append("its model: 'trainer model ").append(job.getId())
                    .append(" --out FILE'");
        }
        line(sb.toString());
    }

    /** Ends the output: a bar still drawn (the stream broke mid-epoch) stays, and the cursor moves below it. */
    public void end() {
        if (barLength > 0) {
            out.println();
            barLength = 0;
        }
        out.flush();
    }

    /** Prints a line, first clearing a bar drawn in place. */
    private void line(String text) {
        if (barLength > 0) {
            out.print("\r" + " ".repeat(barLength) + "\r");
            barLength = 0;
        }
        out.println(text);
    }

    /**
     * One epoch's figures on one line:
     * {@code epoch 3/10  train_loss 0.4321  val_loss 0.3912  val_accuracy 0.8712  lr 0.001  1,234 samples/s  2 worker(s)  12.3 s elapsed}.
     */
    public static String epochLine(EpochMetrics e, int epochsTotal) {
        return String.format(Locale.ROOT, "%s  train_loss %s  val_loss %s  val_accuracy %s  lr %.3g  %s samples/s  %d worker(s)  %.1f s elapsed",
                ProgressBar.epoch(e.getEpoch(), epochsTotal), ProgressBar.number(e.getTrainLoss()),
                ProgressBar.number(e.getValLoss()), ProgressBar.number(e.getValAccuracy()), e.getLearningRate(),
                ProgressBar.rate(e.getSamplesPerSecond()), e.getWorkers(), e.getElapsedSeconds());
    }

    /** Whether a job in this state has ended. */
    public static boolean terminal(JobState s) {
        return s == JobState.SUCCEEDED || s == JobState.FAILED || s == JobState.CANCELLED;
    }
}
