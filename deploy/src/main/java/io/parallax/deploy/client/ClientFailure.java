package io.parallax.deploy.client;

/**
 * Why a client command stopped, as the user should read it: a message (one line, or several
 * for a rejected job, one per field) and the process's exit code.
 */
final class ClientFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int exitCode;
    private final boolean connectionLost;

    ClientFailure(int exitCode, String message) {
        this(exitCode, message, null, false);
    }

    ClientFailure(int exitCode, String message, Throwable cause) {
        this(exitCode, message, cause, false);
    }

    /**
     * @param connectionLost the coordinator could not be reached, or stopped answering: the same
     *                       request may succeed once it is back (a restart)
     */
    ClientFailure(int exitCode, String message, Throwable cause, boolean connectionLost) {
        super(message, cause);
        this.exitCode = exitCode;
        this.connectionLost = connectionLost;
    }

    int exitCode() {
        return exitCode;
    }

    /** Whether the coordinator was unreachable or slow, rather than refusing the request. */
    boolean connectionLost() {
        return connectionLost;
    }
}
