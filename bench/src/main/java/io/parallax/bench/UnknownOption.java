package io.parallax.bench;

/**
 * A benchmark was given an option it does not know. Its {@code main} lets this through to
 * {@link #exit}, which says so in one line and exits 2: a typo is no reason for a stack trace.
 */
public final class UnknownOption extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    public UnknownOption(String message) {
        super(message);
    }

    /** Prints {@code program: message} on stderr and exits 2. */
    public static void exit(String program, UnknownOption e) {
        System.err.println(program + ": " + e.getMessage());
        System.exit(2);
    }
}
