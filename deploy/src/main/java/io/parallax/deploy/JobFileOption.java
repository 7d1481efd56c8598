package io.parallax.deploy;

import java.nio.file.Path;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The job file of {@code trainer local} and {@code trainer submit}: {@code --job FILE}, or the
 * file alone, as a user types it first ({@code trainer submit job.json}).
 */
public final class JobFileOption {

    @Option(names = "--job", paramLabel = "FILE", description = "the job, a JobSpec in JSON (or give FILE alone)")
    Path option;

    @Parameters(arity = "0..1", paramLabel = "FILE", description = "the job file, as --job FILE")
    Path alone;

    /** The job file given, one way or the other. */
    public Path file() {
        if (option != null && alone != null) {
            throw new UsageException("give the job file once: --job " + option + " or " + alone + ", not both");
        }
        if (option == null && alone == null) {
            throw new UsageException("no job file given: --job FILE, or FILE alone");
        }
        return option != null ? option : alone;
    }
}
