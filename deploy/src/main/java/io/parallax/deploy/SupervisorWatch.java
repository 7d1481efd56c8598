package io.parallax.deploy;

/**
 * A node ({@code trainer coordinator}, {@code trainer worker}) started by
 * {@code deploy/supervise-node.sh} stops, as on SIGTERM, when that script is gone. The script
 * passes a stop on to its node, but a {@code kill -9} of it cannot: the node would run on, out of
 * {@code stop-cluster.sh}'s reach (its pid file names the script), holding its ports.
 */
final class SupervisorWatch {

    /** The variable supervise-node.sh sets to its own pid for the node it starts. */
    static final String SUPERVISOR_PID = "PARALLAX_SUPERVISOR_PID";

    /** The JVM's code for a stop by SIGTERM, which this stop stands for. */
    private static final int STOPPED = 143;

    private SupervisorWatch() {
    }

    /** Under a supervisor, exits this JVM (its shutdown hooks run) once the supervisor has exited. */
    static void stopWhenGone(String node) {
        String pid = System.getenv(SUPERVISOR_PID);
        if (pid == null || !pid.matches("\\d{1,10}")) {
            return;
        }
        long supervisor = Long.parseLong(pid);
        // only the one that started this process: a variable inherited from further up means nothing
        ProcessHandle.current().parent().filter(p -> p.pid() == supervisor).ifPresent(p -> p.onExit().thenRun(() -> {
            System.err.println("trainer: " + node + ": its supervisor (pid " + supervisor + ") is gone; stopping");
            System.exit(STOPPED);
        }));
    }
}
