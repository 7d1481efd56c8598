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
    static final int STOPPED = 143;

    private SupervisorWatch() {
    }

    /**
     * Under a supervisor, exits this JVM (its shutdown hooks run) once the supervisor has exited.
     * Called before the node starts anything.
     *
     * @return false when the supervisor exited before this JVM came to look (killed in the second
     *     a start takes): the node says so and stops at once, with {@link #STOPPED}
     */
    static boolean stopWhenGone(String node) {
        String pid = System.getenv(SUPERVISOR_PID);
        if (pid == null || !pid.matches("\\d{1,10}")) {
            return true;
        }
        long supervisor = Long.parseLong(pid);
        String gone = "trainer: " + node + ": its supervisor (pid " + supervisor + ") is gone; stopping";
        // the one that started this process, directly or through a launcher that did not exec
        for (var p = ProcessHandle.current().parent(); p.isPresent(); p = p.get().parent()) {
            if (p.get().pid() == supervisor) {
                p.get().onExit().thenRun(() -> {
                    System.err.println(gone);
                    System.exit(STOPPED);
                });
                return true;
            }
        }
        // not an ancestor: gone before this JVM looked (this process was handed to init), or a
        // variable inherited from elsewhere, naming a live process that is none of this one's
        if (ProcessHandle.of(supervisor).isEmpty()) {
            System.err.println(gone);
            return false;
        }
        return true;
    }
}
