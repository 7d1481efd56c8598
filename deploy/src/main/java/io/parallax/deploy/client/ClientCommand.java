package io.parallax.deploy.client;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * What every job-service command shares: the coordinator's address, the deadline of each
 * request, and the conversion of failures into a message on stderr (one line, or one per
 * field for a rejected job) and an {@link ExitCodes exit code}, never a stack trace.
 */
abstract class ClientCommand implements Callable<Integer> {

    /**
     * grpc-java logs a failed name resolution or connection as a WARNING with a stack trace
     * (java.util.logging, on stderr); the command reports the failure itself, in one line. Held
     * in a field because java.util.logging keeps loggers only weakly, and a collected logger
     * loses its level.
     */
    private static final Logger GRPC_LOG = Logger.getLogger("io.grpc");

    @Option(names = "--server", paramLabel = "HOST:PORT", converter = ServerAddress.Converter.class,
            defaultValue = "${env:PARALLAX_SERVER:-" + ServerAddress.DEFAULT + "}",
            description = "the coordinator's job service (default: $PARALLAX_SERVER, else " + ServerAddress.DEFAULT + ")")
    ServerAddress server;

    @Option(names = "--timeout", paramLabel = "SECONDS",
            description = "deadline of each request, connecting included (default: ${DEFAULT-VALUE})")
    double timeout = 10;

    @Option(names = "--wait", paramLabel = "SECONDS",
            description = "keep trying this long to reach a coordinator that refuses connections (one being "
                    + "restarted: about 5 s under start-cluster.sh); 0: fail at once (default: ${DEFAULT-VALUE})")
    double wait = 0;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Whether {@code --timeout} was given on the command line (not its default). */
    boolean timeoutGiven() {
        return spec.commandLine().getParseResult() != null && spec.commandLine().getParseResult().hasMatchedOption("--timeout");
    }

    /** Does the command's work; returns its exit code. */
    abstract int run(JobClient client) throws IOException;

    @Override
    public final Integer call() {
        if (!(timeout > 0 && timeout <= 86_400)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--timeout must be in (0, 86400] seconds, got " + timeout);
        }
        if (!(wait >= 0 && wait <= 86_400)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--wait must be in [0, 86400] seconds, got " + wait);
        }
        PrintWriter err = spec.commandLine().getErr();
        GRPC_LOG.setLevel(Level.SEVERE);
        try (JobClient client = new JobClient(server, Duration.ofMillis(Math.max(1, Math.round(timeout * 1000))),
                Duration.ofMillis(Math.round(wait * 1000)), notice -> {
                    err.println("trainer: " + notice);
                    err.flush();
                })) {
            return run(client);
        } catch (ClientFailure f) {
            err.println("trainer: " + f.getMessage());
            return f.exitCode();
        } catch (WatchPrinter.OutputClosed closed) {
            return ExitCodes.OUTPUT_CLOSED; // as a process killed by SIGPIPE, which the JVM ignores
        } catch (IOException e) {
            err.println("trainer: " + describe(e));
            return ExitCodes.ERROR;
        } finally {
            spec.commandLine().getOut().flush();
            err.flush();
        }
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** An I/O error as a sentence: the JDK's messages for file errors are often just the path. */
    static String describe(IOException e) {
        if (e instanceof java.nio.file.FileSystemException f) {
            return io.parallax.deploy.FileErrors.describe(f);
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
