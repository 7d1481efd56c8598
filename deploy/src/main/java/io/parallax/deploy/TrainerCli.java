package io.parallax.deploy;

import io.parallax.coordinator.JobCancelledException;
import io.parallax.coordinator.JobFailedException;
import io.parallax.deploy.client.CancelCommand;
import io.parallax.deploy.client.ResumeCommand;
import io.parallax.deploy.client.DeleteCommand;
import io.parallax.deploy.client.ExitCodes;
import io.parallax.deploy.client.ModelCommand;
import io.parallax.deploy.client.StatusCommand;
import io.parallax.deploy.client.SubmitCommand;
import io.parallax.deploy.client.WatchCommand;
import io.parallax.worker.job.InvalidJobException;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.util.Map;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code trainer} launcher's entry point: one command with subcommands. Exit codes: 0 done,
 * 1 the job failed (bad data, diverged) or, for the job-service clients, the coordinator could not
 * be reached or refused the request, 2 bad command-line usage, 3 the watched job FAILED, 4 the
 * watched job was CANCELLED, 5 no such job ({@link io.parallax.deploy.client.ExitCodes}).
 */
@Command(name = "trainer", mixinStandardHelpOptions = true,
        description = "Train neural networks data-parallel on the JVM.",
        subcommands = {DemoCommand.class, TrainCommand.class, LocalCommand.class, CoordinatorCommand.class,
                WorkerCommand.class, SubmitCommand.class, StatusCommand.class, WatchCommand.class, CancelCommand.class,
                ResumeCommand.class, DeleteCommand.class, ModelCommand.class},
        footer = {"", ExitCodes.HELP})
public final class TrainerCli implements Runnable {

    /** Exit code of a job that failed for a reason the user can fix (data, model, settings). */
    public static final int JOB_FAILED = 1;

    /** How a command's own check of an option's value begins: "--option must …", "--option widths must …". */
    private static final Pattern USAGE_MESSAGE = Pattern.compile("--[a-z-]+( [a-z]+)? must ");

    /** Loggers whose INFO lines {@code demo} and {@code local} leave out, and the level they keep. */
    private static final Map<String, String> SINGLE_PROCESS_QUIET_LOGGERS = Map.of(
            "akka", "warn",
            "io.parallax.coordinator.WorkerRegistry", "warn",
            // local --checkpoint prints its resumption as a note
            "io.parallax.coordinator.CheckpointFile", "warn",
            // a worker's failed step is the job's failure, which the command prints itself
            "io.parallax.worker.WorkerActor", "error");

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a command, e.g. 'trainer demo'");
    }

    public static void main(String[] args) {
        quietInfoLinesInOneProcess(args);
        timestampsOnClusterNodes(args);
        if (args.length > 0 && (args[0].equals("coordinator") || args[0].equals("worker"))) {
            // here, not in the command: a test that runs a node in its own JVM keeps its handler
            FatalErrors.endTheNodeOnAnError(args[0]);
        }
        // initialise logging before any thread logs: SLF4J 2 otherwise warns on stderr that calls
        // made by several threads during its start-up were replayed
        org.slf4j.LoggerFactory.getILoggerFactory();
        int code;
        try {
            code = commandLine().execute(args);
        } catch (OutOfMemoryError e) {
            // the jobs' own check (MemoryBudget) refuses what clearly cannot fit; this is the rest
            System.err.println("trainer: out of memory (" + e.getMessage() + "); give the JVM more with "
                    + "JAVA_OPTS=-Xmx…, or use a smaller model or batch");
            code = JOB_FAILED;
        }
        System.exit(code);
    }

    /**
     * {@code demo} and {@code local} run the coordinator and its workers in this process and print
     * the job's progress themselves, so Akka's start-up and shutdown lines and the worker count are
     * noise there (they matter on a cluster node, whose log they are). Warnings and errors still
     * show; a {@code -Dorg.slf4j.simpleLogger.log.…} the user set wins.
     */
    static void quietInfoLinesInOneProcess(String[] args) {
        if (args.length == 0 || !(args[0].equals("demo") || args[0].equals("local"))) {
            return;
        }
        SINGLE_PROCESS_QUIET_LOGGERS.forEach((logger, level) -> {
            String property = "org.slf4j.simpleLogger.log." + logger;
            if (System.getProperty(property) == null) {
                System.setProperty(property, level);
            }
        });
    }

    /**
     * A coordinator's or worker's log is read after the fact, next to other nodes' logs: each of
     * its lines says when (ISO 8601 with the zone's offset, to the millisecond). A {@code -Dorg.slf4j.simpleLogger.showDateTime}
     * or {@code dateTimeFormat} the user set wins.
     */
    static void timestampsOnClusterNodes(String[] args) {
        if (args.length == 0 || !(args[0].equals("coordinator") || args[0].equals("worker"))) {
            return;
        }
        if (System.getProperty(SHOW_DATE_TIME) == null) {
            System.setProperty(SHOW_DATE_TIME, "true");
        }
        if (System.getProperty(DATE_TIME_FORMAT) == null) {
            System.setProperty(DATE_TIME_FORMAT, LOG_TIME_PATTERN);
        }
    }

    private static final String SHOW_DATE_TIME = "org.slf4j.simpleLogger.showDateTime";
    private static final String DATE_TIME_FORMAT = "org.slf4j.simpleLogger.dateTimeFormat";
    /** The log lines' time, ISO 8601 with the zone's offset, as the lines a node prints itself ({@link EpochPrinter}) have it. */
    static final String LOG_TIME_PATTERN = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX";

    /**
     * The parser: errors in the job become a message and exit code 1 instead of a stack trace,
     * and usage errors one line with a pointer to the command's help and exit code 2.
     */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new TrainerCli());
        // picocli's own writer wraps System.out in a Writer, which hides the PrintStream's write
        // errors from checkError(); this one asks the PrintStream, so that a watch finds out that
        // its reader went away (`trainer watch JOB | head`). Same charset as picocli's.
        String stdout = System.getProperty("sun.stdout.encoding");
        cl.setOut(new java.io.PrintWriter(System.out, true, stdout != null && java.nio.charset.Charset.isSupported(stdout)
                ? java.nio.charset.Charset.forName(stdout) : java.nio.charset.Charset.defaultCharset()));
        // every command answers -V (their help lists it) with the build's version, the one the
        // cluster's nodes compare when one joins
        cl.getCommandSpec().version("parallax " + ParallaxVersion.get());
        cl.getSubcommands().values().forEach(sub -> sub.getCommandSpec().version(cl.getCommandSpec().version()));
        cl.setParameterExceptionHandler((e, args) -> {
            CommandLine bad = e.getCommandLine();
            bad.getErr().println("trainer: " + e.getMessage());
            bad.getErr().println("(see '" + bad.getCommandSpec().qualifiedName() + " --help')");
            return ExitCodes.USAGE;
        });
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            String message = jobErrorMessage(e);
            if (message == null) {
                throw e;
            }
            commandLine.getErr().println("trainer: " + message);
            if (isUsageError(e)) {
                commandLine.getErr().println("(see '" + commandLine.getCommandSpec().qualifiedName() + " --help')");
                return ExitCodes.USAGE;
            }
            return JOB_FAILED;
        });
        return cl;
    }

    /**
     * Whether a command's own check refused the value of one of its options, whatever the data
     * or the machine: those checks say so in one form, "--workers must be between 1 and 1024,
     * got 0" (a file an option names that cannot be written, or data an option does not fit,
     * are not usage errors).
     */
    private static boolean isUsageError(Exception e) {
        return e instanceof UsageException || e instanceof IllegalArgumentException && e.getMessage() != null
                && USAGE_MESSAGE.matcher(e.getMessage()).lookingAt();
    }


    /** What to tell the user about a job that could not run, or null for a fault of the launcher itself. */
    private static String jobErrorMessage(Exception e) {
        if (e instanceof java.io.UncheckedIOException u) {
            // thrown where a checked one cannot be (a listener's close): the same in words
            return jobErrorMessage(u.getCause());
        }
        if (e instanceof FileSystemException fse) {
            return FileErrors.describe(fse);
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
