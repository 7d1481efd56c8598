package io.parallax.deploy.client;

import java.io.PrintWriter;
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

    @Override
    int run(JobClient client) {
        return follow(client, job, out(), progress.style());
    }

    /** Shows the job's events until its stream ends; returns the exit code of its final state. */
    static int follow(JobClient client, String job, PrintWriter out, WatchPrinter.Style style) {
        WatchPrinter printer = new WatchPrinter(out, style, System::nanoTime);
        try {
            client.watch(job, printer::accept);
        } finally {
            printer.end();
        }
        if (!WatchPrinter.terminal(printer.state())) {
            throw new ClientFailure(ExitCodes.ERROR, "the coordinator at " + client.address()
                    + " ended the watch before " + job + " ended (last state " + printer.state() + ")");
        }
        return ExitCodes.of(printer.state());
    }
}
