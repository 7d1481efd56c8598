package io.parallax.deploy.client;

import java.time.Duration;
import picocli.CommandLine.Option;

/** The {@code --reconnect} option of the commands that follow a job. */
final class ReconnectOption {

    @Option(names = "--reconnect", paramLabel = "SECONDS",
            description = "when the coordinator goes away while the job runs (a restart: the job resumes from its "
                    + "checkpoint), keep trying to reach it this long and follow the job on; 0: give up at once "
                    + "(default: ${DEFAULT-VALUE})")
    long seconds = 120;

    Duration window() {
        if (seconds < 0 || seconds > 86_400) {
            throw new IllegalArgumentException("--reconnect must be 0 to 86400 seconds, got " + seconds);
        }
        return Duration.ofSeconds(seconds);
    }
}
