package io.parallax.deploy.client;

import picocli.CommandLine.Option;

/** The {@code --progress} option of the commands that follow a job. */
final class ProgressOption {

    /** The values of {@code --progress}. */
    enum Mode { auto, bar, plain }

    @Option(names = "--progress", paramLabel = "MODE",
            description = "bar (redrawn in place), plain (a line per epoch and per 10%% of it) or auto: bar on a "
                    + "terminal, plain otherwise, e.g. in CI or a pipe (default: ${DEFAULT-VALUE})")
    Mode mode = Mode.auto;

    WatchPrinter.Style style() {
        return switch (mode) {
            case bar -> WatchPrinter.Style.BAR;
            case plain -> WatchPrinter.Style.PLAIN;
            case auto -> onTerminal() ? WatchPrinter.Style.BAR : WatchPrinter.Style.PLAIN;
        };
    }

    /**
     * Whether stdout looks like an interactive terminal that understands {@code \r}. On Java 17
     * {@link System#console()} is null when stdin or stdout is redirected; a dumb terminal
     * (Emacs shells, some CI runners) cannot redraw in place.
     */
    static boolean onTerminal() {
        String term = System.getenv("TERM");
        return System.console() != null && term != null && !term.isEmpty() && !term.equals("dumb");
    }
}
