package io.parallax.deploy.client;

/**
 * Why a client command stopped, as the user should read it: a message (one line, or several
 * for a rejected job, one per field) and the process's exit code.
 */
final class ClientFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int exitCode;

    ClientFailure(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    ClientFailure(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
