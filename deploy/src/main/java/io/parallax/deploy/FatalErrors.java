package io.parallax.deploy;

import java.util.function.IntConsumer;

/**
 * A node ({@code trainer coordinator}, {@code trainer worker}) ends when an {@link Error} (out of
 * memory, a class that cannot be loaded) escapes one of its own threads, the way Akka ends it for
 * one in an actor: a node whose job queue or compute thread died would otherwise stay up doing
 * nothing, its jobs waiting for ever, out of its supervisor's reach. It halts with
 * {@link #EXIT_CODE}, Akka's code, on which {@code deploy/supervise-node.sh} starts it again (the
 * coordinator's running job then resumes from its checkpoint). An exception that escapes a thread
 * is only printed, as by default: each part of a node handles its own.
 */
final class FatalErrors {

    /** Akka's exit code on a fatal error, which the supervisor restarts on. */
    static final int EXIT_CODE = 255;

    private FatalErrors() {
    }

    /**
     * Makes an Error escaping any thread of this JVM end it (see the class comment). For a node's
     * own process only ({@code TrainerCli.main}): the handler is the JVM's.
     */
    static void endTheNodeOnAnError(String node) {
        Thread.setDefaultUncaughtExceptionHandler(handler(node, code -> Runtime.getRuntime().halt(code)));
    }

    /** The handler, which calls {@code halt} for an Error. */
    static Thread.UncaughtExceptionHandler handler(String node, IntConsumer halt) {
        return (thread, e) -> {
            if (!(e instanceof Error)) {
                System.err.print("Exception in thread \"" + thread.getName() + "\" ");
                e.printStackTrace();
                return;
            }
            try {
                System.err.println("trainer: " + node + ": " + e + " in thread \"" + thread.getName()
                        + "\"; stopping (exit " + EXIT_CODE + ", which its supervisor starts it again on)");
                e.printStackTrace();
                System.err.flush();
            } finally {
                // halt, not exit: shutdown hooks may need the memory or the classes that failed
                halt.accept(EXIT_CODE);
            }
        };
    }
}
