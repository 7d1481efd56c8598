package io.parallax.deploy.client;

import io.parallax.proto.v1.JobState;
import java.io.PrintWriter;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code trainer watch JOB}: follows a job until it ends, with a progress bar on a terminal and
 * plain lines elsewhere. The exit code tells how it ended: 0 SUCCEEDED, 3 FAILED, 4 CANCELLED.
 */
@Command(name = "watch", mixinStandardHelpOptions = true,
        description = "Follow a job until it ends: per-epoch progress with loss, accuracy, samples/s and time left.",
        footer = {"", "Exit code: 0 the job SUCCEEDED, 3 FAILED, 4 CANCELLED, 5 no such job, 1 connection or other error.%n"})
public final class WatchCommand extends ClientCommand {

    @Parameters(paramLabel = "JOB", description = "the job's id, as printed by 'trainer submit'")
    String job;

    @Mixin
    ProgressOption progress;

    @Mixin
    ReconnectOption reconnect;

    @Override
    int run(JobClient client) {
        return follow(client, job, out(), err(), progress.style(), reconnect.window());
    }

    /** How often a watch that lost its coordinator tries to reach it again. */
    private static final long RETRY_MILLIS = 1000;

    /**
     * Shows the job's events until its stream ends; returns the exit code of its final state.
     * When the coordinator goes away before the job ends (a restart, after which the job resumes
     * from its checkpoint), says so on {@code err} and tries again for up to {@code reconnect},
     * showing each epoch once.
     */
    static int follow(JobClient client, String job, PrintWriter out, PrintWriter err, WatchPrinter.Style style,
                      Duration reconnect) {
        WatchPrinter printer = new WatchPrinter(out, style, System::nanoTime);
        // the window runs from the first loss; a watch that shows a new epoch before the next one starts it again
        long lostSince = 0;
        int epochAtLoss = -1;
        try {
            while (true) {
                ClientFailure lost;
                try {
                    client.watch(job, printer::accept);
                    if (WatchPrinter.terminal(printer.state())) {
                        break;
                    }
                    lost = new ClientFailure(ExitCodes.ERROR, "the coordinator at " + client.address()
                            + " ended the watch before " + job + " ended (last state " + printer.state() + ")");
                } catch (ClientFailure f) {
                    if (!f.connectionLost()) {
                        throw f;
                    }
                    lost = f;
                }
                // a coordinator never reached is a wrong address, not a restart
                if (reconnect.isZero() || printer.state() == JobState.JOB_STATE_UNSPECIFIED) {
                    throw lost;
                }
                printer.end();
                if (printer.lastEpochShown() > epochAtLoss) {
                    lostSince = System.nanoTime();
                    epochAtLoss = printer.lastEpochShown();
                    err.println("trainer: " + lost.getMessage() + "; trying again for up to " + reconnect.toSeconds()
                            + " s (--reconnect)");
                    err.flush();
                }
                awaitCoordinator(client, job, lostSince + reconnect.toNanos(), reconnect, lost);
            }
        } finally {
            printer.end();
        }
        return ExitCodes.of(printer.state());
    }

    /** Asks for the job every second until the coordinator answers; fails with {@code lost} past {@code until}. */
    private static void awaitCoordinator(JobClient client, String job, long until, Duration window,
                                         ClientFailure lost) {
        while (true) {
            try {
                Thread.sleep(RETRY_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw lost;
            }
            if (System.nanoTime() > until) {
                throw new ClientFailure(lost.exitCode(), lost.getMessage() + "; no progress within "
                        + window.toSeconds() + " s of trying again (--reconnect)", lost);
            }
            try {
                client.get(job);
                return;
            } catch (ClientFailure f) {
                if (!f.connectionLost()) {
                    throw f;
                }
            }
        }
    }
}
