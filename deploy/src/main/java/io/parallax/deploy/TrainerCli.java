package io.parallax.deploy;

import io.parallax.coordinator.JobCancelledException;
import io.parallax.coordinator.JobFailedException;
import io.parallax.deploy.client.CancelCommand;
import io.parallax.deploy.client.ExitCodes;
import io.parallax.deploy.client.ModelCommand;
import io.parallax.deploy.client.StatusCommand;
import io.parallax.deploy.client.SubmitCommand;
import io.parallax.deploy.client.WatchCommand;
import io.parallax.worker.job.InvalidJobException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code trainer} launcher's entry point: one command with subcommands. Exit codes: 0 done,
 * 1 the job failed (bad data, diverged) or, for the job-service clients, the coordinator could not
 * be reached or refused the request, 2 bad command-line usage, 3 the watched job FAILED, 4 the
 * watched job was CANCELLED, 5 no such job ({@link io.parallax.deploy.client.ExitCodes}).
 */
@Command(name = "trainer", mixinStandardHelpOptions = true, version = "parallax 0.1.0",
        description = "Train neural networks data-parallel on the JVM.",
        subcommands = {DemoCommand.class, TrainCommand.class, LocalCommand.class, CoordinatorCommand.class,
                WorkerCommand.class, SubmitCommand.class, StatusCommand.class, WatchCommand.class, CancelCommand.class, ModelCommand.class},
        footer = {"", ExitCodes.HELP})
public final class TrainerCli implements Runnable {

    /** Exit code of a job that failed for a reason the user can fix (data, model, settings). */
    public static final int JOB_FAILED = 1;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a command, e.g. 'trainer demo'");
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The parser, with errors in the job turned into a message and exit code 1 instead of a stack trace. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new TrainerCli());
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            String message = jobErrorMessage(e);
            if (message == null) {
                throw e;
            }
            commandLine.getErr().println("trainer: " + message);
            return JOB_FAILED;
        });
        return cl;
    }

    /** What to tell the user about a job that could not run, or null for a fault of the launcher itself. */
    private static String jobErrorMessage(Exception e) {
        if (e instanceof NoSuchFileException nsf) {
            return "no such file: " + nsf.getFile();
        }
        if (e instanceof AccessDeniedException ade) {
            return "permission denied: " + ade.getFile();
        }
        if (e instanceof JobCancelledException) {
            return "the job was cancelled: " + e.getMessage();
        }
        if (e instanceof JobFailedException) {
            return "the job failed: " + e.getMessage();
        }
        if (e instanceof IllegalArgumentException || e instanceof IOException
                || e instanceof ArithmeticException || e instanceof IllegalStateException
                || e instanceof InvalidJobException) {
            return e.getMessage();
        }
        return null;
    }
}
