package io.parallax.deploy;

/**
 * A command refused the value of one of its options, whatever the data or the machine: the
 * launcher prints the message with a pointer to the command's help and exits 2, not 1.
 */
public final class UsageException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }
}
