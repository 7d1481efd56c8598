package io.parallax.deploy.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scripts' safety without a real cluster: stop signals only the processes start started, a
 * start that fails stops what it started, bad options start nothing, shellcheck is clean.
 */
class ScriptSafetyTest {

    @TempDir
    Path dir;

    /** Field 22 of /proc/PID/stat: the start time the scripts record. */
    private static String startTime(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19];
    }

    @Test
    void aPidThatIsNoLongerOursIsLeftAloneAndItsPidFileRemoved() throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "120").start();
        try {
            long pid = sleeper.pid();
            // the pid was reused: another start time
            Files.writeString(dir.resolve("worker-1.pid"), "- " + pid + " 1\n");
            // the right start time, but not a trainer command line
            Files.writeString(dir.resolve("worker-2.pid"), "- " + pid + " " + startTime(pid) + "\n");
            Files.writeString(dir.resolve("worker-3.pid"), "garbage\n");
            Scripts.Result stop = Scripts.run(Map.of(), Duration.ofMinutes(1), "stop-cluster.sh", "--run-dir",
                    dir.toString(), "--grace", "1");
            assertEquals(0, stop.exitCode(), stop.toString());
            assertTrue(stop.output().contains("worker-1 (pid " + pid + ") was no longer running"), stop.toString());
            assertTrue(stop.output().contains("worker-2 (pid " + pid + ") was no longer running"), stop.toString());
            assertTrue(stop.output().contains("worker-3: unreadable"), stop.toString());
            assertFalse(sleeper.waitFor(500, TimeUnit.MILLISECONDS), "the unrelated process still runs");
            try (var files = Files.list(dir)) {
                assertEquals(0, files.filter(f -> f.toString().endsWith(".pid")).count());
            }
        } finally {
            sleeper.destroyForcibly();
        }
    }

    @Test
    void nothingToStopIsNotAnError() throws Exception {
        Scripts.Result stop = Scripts.run(Map.of(), Duration.ofMinutes(1), "stop-cluster.sh", "--run-dir",
                dir.resolve("never-started").toString());
        assertEquals(0, stop.exitCode(), stop.toString());
        assertTrue(stop.output().contains("nothing to stop"), stop.toString());
        // --option=value, the form trainer's own help shows, is the same
        stop = Scripts.run(Map.of(), Duration.ofMinutes(1), "stop-cluster.sh", "--run-dir="
                + dir.resolve("never-started"), "--grace=5");
        assertEquals(0, stop.exitCode(), stop.toString());
        assertTrue(stop.output().contains("nothing to stop in " + dir.resolve("never-started")), stop.toString());
    }

    @Test
    void startRejectsBadOptionsBeforeStartingAnything() throws Exception {
        Scripts.Result start = Scripts.run(Map.of(), Duration.ofMinutes(1), "start-cluster.sh", "--run-dir",
                dir.toString(), "--workers", "two");
        assertEquals(2, start.exitCode(), start.toString());
        assertTrue(start.output().contains("--workers must be a number"), start.toString());
        start = Scripts.run(Map.of(), Duration.ofMinutes(1), "start-cluster.sh", "--run-dir=" + dir, "--workers=two");
        assertTrue(start.output().contains("--workers must be a number, got 'two'"), start.toString());
        start = Scripts.run(Map.of(), Duration.ofMinutes(1), "start-cluster.sh", "--run-dir", dir.toString(),
                "--hosts", dir.resolve("no-such-file").toString());
        assertEquals(2, start.exitCode(), start.toString());
        // one fixed port for two workers on one machine: the second could never bind it
        start = Scripts.run(Map.of(), Duration.ofMinutes(1), "start-cluster.sh", "--run-dir", dir.toString(),
                "--workers", "2", "--worker-arg", "--port=27203");
        assertEquals(2, start.exitCode(), start.toString());
        assertTrue(start.output().contains("--worker-arg --port 27203 gives every worker that port, and this machine "
                + "runs more than one worker"), start.toString());
        Path hosts = Files.writeString(dir.resolve("hosts"), "a\nb\nb\n");
        start = Scripts.run(Map.of(), Duration.ofMinutes(1), "start-cluster.sh", "--run-dir", dir.toString(),
                "--hosts", hosts.toString(), "--worker-arg", "--port", "--worker-arg", "2552");
        assertEquals(2, start.exitCode(), start.toString());
        assertTrue(start.output().contains("and host b runs more than one worker"), start.toString());
        Files.delete(hosts);
        start = Scripts.run(Map.of(), Duration.ofMinutes(1), "start-cluster.sh", "--run-dir", dir.toString(),
                "--data-root", "data");
        assertEquals(2, start.exitCode(), start.toString());
        assertTrue(start.output().contains("--data-root must be an absolute path (each node reads it on its own host), "
                + "got 'data'"), start.toString());
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "nothing was started");
        }
    }

    @Test
    void dataRootsReachTheCoordinatorAndEveryWorker() throws Exception {
        Path run = dir.resolve("run");
        Map<String, String> env = Map.of("PARALLAX_TRAINER", fakeCluster().toString(), "FAKE_LIVE", "2");
        try {
            Scripts.Result start = Scripts.run(env, Duration.ofMinutes(1), "start-cluster.sh", "--run-dir",
                    run.toString(), "--workers", "2", "--timeout", "5", "--data-root", "/srv/images",
                    "--data-root=/srv/tables");
            assertEquals(0, start.exitCode(), start.toString());
        } finally {
            stop(run);
        }
        for (String node : List.of("coordinator", "worker-1", "worker-2")) {
            String first = Files.readString(run.resolve(node + ".log")).lines().findFirst().orElse("");
            assertTrue(first.contains(" --data-root=/srv/images --data-root=/srv/tables"), node + ": " + first);
        }
    }

    private Path fakeTrainer(String body) throws Exception {
        Path trainer = dir.resolve("fake-trainer");
        Files.writeString(trainer, "#!/bin/bash\n" + body + "\n");
        Files.setPosixFilePermissions(trainer, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        return trainer;
    }

    /**
     * A stand-in trainer: a coordinator that logs its arguments, "coordinator up" and one
     * "N worker(s) live" line for each N in $FAKE_LIVE; a worker that logs its arguments; both
     * then run until stopped.
     */
    private Path fakeCluster() throws Exception {
        return fakeTrainer("echo \"fake-trainer $*\"\n"
                + "if [[ $1 == coordinator ]]; then\n"
                + "  echo \"fake-env PARALLAX_WORKER_WAIT=${PARALLAX_WORKER_WAIT:-}\"\n"
                + "  echo 'coordinator up: cluster akka://parallax@127.0.0.1:1, gRPC 127.0.0.1:2'\n"
                + "  for n in ${FAKE_LIVE:-}; do echo \"$n worker(s) live\"; done\n"
                + "fi\n"
                + "while :; do sleep 0.1; done");
    }

    /** start-cluster.sh with one worker into {@code run}, which must succeed. */
    private static Scripts.Result startOneWorker(Map<String, String> env, Path run) throws Exception {
        Scripts.Result start = Scripts.run(env, Duration.ofMinutes(1), "start-cluster.sh", "--run-dir", run.toString(),
                "--workers", "1", "--timeout", "10");
        assertEquals(0, start.exitCode(), start.toString());
        return start;
    }

    /** The process a node's pid file in {@code run} records: its supervisor. */
    private static ProcessHandle recorded(Path run, String node) throws Exception {
        return ProcessHandle.of(Scripts.pid(run.resolve(node + ".pid"))).orElseThrow();
    }

    /** start-cluster.sh --coordinator-only into {@code run}. */
    private static Scripts.Result coordinatorOnly(Map<String, String> env, Path run) throws Exception {
        return Scripts.run(env, Duration.ofMinutes(1), "start-cluster.sh", "--run-dir", run.toString(), "--timeout", "10",
                "--coordinator-only");
    }

    private Scripts.Result stop(Path run) throws Exception {
        return Scripts.run(Map.of(), Duration.ofMinutes(1), "stop-cluster.sh", "--run-dir", run.toString(), "--grace", "5");
    }

    /** Stops the coordinator's supervisor (and so the coordinator) alone, as a crash would. */
    private static void stopCoordinatorAlone(Path run) throws Exception {
        ProcessHandle supervisor = recorded(run, "coordinator");
        supervisor.destroy();
        supervisor.onExit().get(30, TimeUnit.SECONDS);
    }

    @Test
    void aLauncherOfAnyNameIsRecordedAndStopped() throws Exception {
        // what start-cluster.sh records is each node's supervisor, whatever PARALLAX_TRAINER is called
        Path run = dir.resolve("run");
        Path launcher = Files.move(fakeCluster(), dir.resolve("node-launcher"));
        Map<String, String> env = Map.of("PARALLAX_TRAINER", launcher.toString(), "FAKE_LIVE", "1");
        try {
            startOneWorker(env, run);
            List<ProcessHandle> nodes = new java.util.ArrayList<>();
            for (String name : List.of("coordinator", "worker-1")) {
                ProcessHandle supervisor = recorded(run, name);
                nodes.add(supervisor);
                supervisor.children().forEach(nodes::add);
            }
            assertEquals(4, nodes.size(), "two supervisors with a node each: " + nodes);
            Scripts.Result stop = stop(run);
            assertEquals(0, stop.exitCode(), stop.toString());
            for (ProcessHandle p : nodes) {
                p.onExit().get(10, TimeUnit.SECONDS);
            }
        } finally {
            stop(run);
        }
    }

    @Test
    void moreWorkersLiveThanItStartedIsAClusterUpNotATimeout() throws Exception {
        // workers added by hand rejoin at once: the coordinator logs "2 worker(s) live", then
        // "3 …", and never "1 worker(s) live"
        Path run = dir.resolve("run");
        Map<String, String> env = Map.of("PARALLAX_TRAINER", fakeCluster().toString(), "FAKE_LIVE", "2 3");
        try {
            Scripts.Result start = startOneWorker(env, run);
            assertTrue(start.output().contains("1 worker(s) (and 2 more live: workers started by hand)"), start.toString());
            stopCoordinatorAlone(run);
            Scripts.Result again = coordinatorOnly(env, run);
            assertEquals(0, again.exitCode(), again.toString());
            assertTrue(Scripts.alive(Scripts.pid(run.resolve("coordinator.pid"))), again.toString());
        } finally {
            stop(run);
        }
    }

    @Test
    void coordinatorOnlyNamesTheRecordedWorkersThatAreGone() throws Exception {
        Path run = dir.resolve("run");
        Map<String, String> env = Map.of("PARALLAX_TRAINER", fakeCluster().toString(), "FAKE_LIVE", "1");
        try {
            startOneWorker(env, run);
            // the worker gone for good (its supervisor gave up), then the coordinator
            ProcessHandle worker = recorded(run, "worker-1");
            worker.destroy();
            worker.onExit().get(30, TimeUnit.SECONDS);
            stopCoordinatorAlone(run);
            Scripts.Result again = coordinatorOnly(env, run);
            assertEquals(0, again.exitCode(), again.toString());
            assertTrue(again.output().contains("start-cluster: worker-1 (pid " + worker.pid() + ") is no longer running, "
                    + "and --coordinator-only does not start workers"), again.toString());
        } finally {
            stop(run);
        }
    }

    @Test
    void tooFewWorkersTimeOutSayingHowManyAreLive() throws Exception {
        Path run = dir.resolve("run");
        Map<String, String> env = Map.of("PARALLAX_TRAINER", fakeCluster().toString(), "FAKE_LIVE", "1");
        try {
            Scripts.Result start = Scripts.run(env, Duration.ofMinutes(1), "start-cluster.sh", "--run-dir",
                    run.toString(), "--workers", "2", "--timeout", "3");
            assertEquals(1, start.exitCode(), start.toString());
            assertTrue(start.output().contains("timed out after 3s waiting for 2 worker(s) to join; 1 live"),
                    start.toString());
            try (var files = Files.list(run)) {
                assertEquals(0, files.filter(f -> f.toString().endsWith(".pid")).count(), "what it started is stopped");
            }
        } finally {
            stop(run);
        }
    }

    @Test
    void workerPortBaseGivesEachWorkerOnAHostItsOwnPort() throws Exception {
        Path run = dir.resolve("run");
        Map<String, String> env = Map.of("PARALLAX_TRAINER", fakeCluster().toString(), "FAKE_LIVE", "2");
        try {
            Scripts.Result start = Scripts.run(env, Duration.ofMinutes(1), "start-cluster.sh", "--run-dir",
                    run.toString(), "--workers", "2", "--timeout", "5", "--worker-port-base=29400");
            assertEquals(0, start.exitCode(), start.toString());
        } finally {
            stop(run);
        }
        assertTrue(Files.readString(run.resolve("worker-1.log")).strip().endsWith("--port 29400"));
        assertTrue(Files.readString(run.resolve("worker-2.log")).strip().endsWith("--port 29401"));
    }

    @Test
    void workerPortBaseRefusesClashesAndPortsPastTheEnd() throws Exception {
        String[][] refused = {
            {"--worker-port-base", "65535", "needs ports up to 65536; ports end at 65535"},
            {"--worker-port-base", "0", "--worker-port-base must be a port 1-65535, got '0'"},
            {"--worker-port-base", "2550", "ports 2550-2551, which hold its Akka port (--port) 2551; choose another base"},
            {"--grpc-port", "29001", "--worker-port-base", "29000", "which hold its gRPC port (--grpc-port) 29001"},
            {"--worker-arg", "--port=29000", "--worker-port-base", "29000", "both set the workers' ports; give one"},
        };
        for (String[] c : refused) {
            List<String> args = new ArrayList<>(List.of("--run-dir", dir.toString(), "--workers", "2"));
            args.addAll(List.of(c).subList(0, c.length - 1));
            Scripts.Result start = Scripts.run(Map.of(), Duration.ofMinutes(1), "start-cluster.sh",
                    args.toArray(String[]::new));
            assertEquals(2, start.exitCode(), start.toString());
            assertTrue(start.output().contains(c[c.length - 1]), start.toString());
            assertEquals(1, start.output().strip().lines().count(), "one line: " + start);
        }
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "nothing was started");
        }
    }

    @Test
    void coordinatorOnlyReusesTheRecordedOptionsAndRefusesOnesThatMoveItsStateOrPorts() throws Exception {
        Path run = dir.resolve("run");
        String state = dir.resolve("state").toString();
        String trainer = fakeCluster().toString();
        try {
            Scripts.Result start = Scripts.run(Map.of("PARALLAX_TRAINER", trainer, "FAKE_LIVE", "1",
                    "PARALLAX_WORKER_WAIT", "30s"), Duration.ofMinutes(1), "start-cluster.sh", "--run-dir",
                    run.toString(), "--workers", "1", "--timeout", "5", "--port", "29411", "--grpc-port", "29412",
                    "--coordinator-arg", "--state-dir=" + state, "--coordinator-arg=--checkpoint-every=0");
            assertEquals(0, start.exitCode(), start.toString());
            String expected = "fake-trainer coordinator --port 29411 --grpc-port 29412 --state-dir=" + state
                    + " --checkpoint-every=0";
            assertTrue(Files.readString(run.resolve("coordinator.log")).startsWith(expected));

            // the run folder alone: the same coordinator, with the settings of the first start
            Map<String, String> env = Map.of("PARALLAX_TRAINER", trainer, "FAKE_LIVE", "1");
            stopCoordinatorAlone(run);
            Scripts.Result again = coordinatorOnly(env, run);
            assertEquals(0, again.exitCode(), again.toString());
            String log = Files.readString(run.resolve("coordinator.log"));
            assertTrue(log.startsWith(expected + "\nfake-env PARALLAX_WORKER_WAIT=30s\n"), log);

            stopCoordinatorAlone(run);
            String[][] refused = {
                {"--grpc-port", "29413", "--grpc-port 29413 differs from 29412"},
                {"--port", "29411", "--host", "127.0.0.2", "--host 127.0.0.2 differs from the default (not given)"},
                {"--coordinator-arg", "--checkpoint-every=0", "would keep its jobs in the default state directory instead of "
                        + state},
            };
            for (String[] c : refused) {
                List<String> args = new ArrayList<>(List.of("--run-dir", run.toString(), "--timeout", "5",
                        "--coordinator-only"));
                args.addAll(List.of(c).subList(0, c.length - 1));
                Scripts.Result r = Scripts.run(env, Duration.ofMinutes(1), "start-cluster.sh", args.toArray(String[]::new));
                assertEquals(2, r.exitCode(), r.toString());
                assertTrue(r.output().contains(c[c.length - 1]), r.toString());
                assertEquals(1, r.output().strip().lines().count(), "one line: " + r);
            }
            Scripts.Result moved = Scripts.run(Map.of("PARALLAX_TRAINER", trainer, "PARALLAX_STATE_DIR", "/elsewhere"),
                    Duration.ofMinutes(1), "start-cluster.sh", "--run-dir", run.toString(), "--coordinator-only",
                    "--coordinator-arg", "--checkpoint-every=0");
            assertEquals(2, moved.exitCode(), moved.toString());
            assertTrue(moved.output().contains("would keep its jobs in /elsewhere instead of " + state), moved.toString());
            assertFalse(Scripts.alive(Scripts.pid(run.resolve("coordinator.pid"))), "none was started");

            // all --coordinator-arg given again replace the recorded ones, with the same --state-dir
            Scripts.Result replaced = Scripts.run(env, Duration.ofMinutes(1), "start-cluster.sh", "--run-dir",
                    run.toString(), "--timeout", "5", "--coordinator-only", "--port", "29411",
                    "--coordinator-arg", "--state-dir=" + state, "--coordinator-arg", "--checkpoint-every=5");
            assertEquals(0, replaced.exitCode(), replaced.toString());
            assertTrue(replaced.output().contains("replace the recorded ones"), replaced.toString());
            assertTrue(Files.readString(run.resolve("coordinator.log")).startsWith(
                    "fake-trainer coordinator --port 29411 --grpc-port 29412 --state-dir=" + state + " --checkpoint-every=5"));
        } finally {
            stop(run);
        }
    }

    @Test
    void aFullStartKeepsTheEarlierRunsLogsOfEveryNode() throws Exception {
        Path run = dir.resolve("run");
        Files.createDirectories(run);
        Files.writeString(run.resolve("coordinator.log"), "the last coordinator");
        Files.writeString(run.resolve("worker-1.log"), "the last worker");
        for (int i = 1; i <= 5; i++) {
            Files.writeString(run.resolve("worker-1.log." + i), "older " + i);
        }
        Map<String, String> env = Map.of("PARALLAX_TRAINER", fakeCluster().toString(), "FAKE_LIVE", "1");
        try {
            startOneWorker(env, run);
        } finally {
            stop(run);
        }
        assertEquals("the last coordinator", Files.readString(run.resolve("coordinator.log.1")));
        assertEquals("the last worker", Files.readString(run.resolve("worker-1.log.1")));
        for (int i = 2; i <= 5; i++) {
            assertEquals("older " + (i - 1), Files.readString(run.resolve("worker-1.log." + i)));
        }
        assertFalse(Files.exists(run.resolve("worker-1.log.6")), "five are kept");
        assertTrue(Files.readString(run.resolve("worker-1.log")).startsWith("fake-trainer worker"));
        assertTrue(Files.readString(run.resolve("coordinator.log")).startsWith("fake-trainer coordinator"));
    }

    @Test
    void aRestartKeepsTheLogsOfTheLastFiveCoordinators() throws Exception {
        Path run = dir.resolve("run");
        Files.createDirectories(run);
        Files.writeString(run.resolve("coordinator.log"), "the last one");
        for (int i = 1; i <= 5; i++) {
            Files.writeString(run.resolve("coordinator.log." + i), "older " + i);
        }
        Path trainer = fakeTrainer("echo 'trainer: address already in use' >&2; exit 1");
        Scripts.Result start = Scripts.run(Map.of("PARALLAX_TRAINER", trainer.toString()), Duration.ofMinutes(1),
                "start-cluster.sh", "--run-dir", run.toString(), "--timeout", "20", "--coordinator-only");
        assertEquals(1, start.exitCode(), start.toString());
        assertEquals("the last one", Files.readString(run.resolve("coordinator.log.1")));
        for (int i = 2; i <= 5; i++) {
            assertEquals("older " + (i - 1), Files.readString(run.resolve("coordinator.log." + i)));
        }
        assertTrue(Files.readString(run.resolve("coordinator.log")).contains("address already in use"));
        assertTrue(!Files.exists(run.resolve("coordinator.log.6")));
    }

    @Test
    void aCoordinatorThatExitsFailsTheStartWithItsLogAndLeavesNoPidFile() throws Exception {
        Path run = dir.resolve("run");
        Path trainer = fakeTrainer("echo 'trainer: address already in use' >&2; exit 1");
        Scripts.Result start = Scripts.run(Map.of("PARALLAX_TRAINER", trainer.toString()), Duration.ofMinutes(1),
                "start-cluster.sh", "--run-dir", run.toString(), "--timeout", "20");
        assertEquals(1, start.exitCode(), start.toString());
        assertTrue(start.output().contains("coordinator on this machine exited"), start.toString());
        assertTrue(start.output().contains("address already in use"), "the end of its log: " + start);
        try (var files = Files.list(run)) {
            assertEquals(0, files.filter(f -> f.toString().endsWith(".pid")).count());
        }
    }

    @Test
    void aCoordinatorThatNeverComesUpIsStoppedAfterTheTimeout() throws Exception {
        Path run = dir.resolve("run");
        Path trainer = fakeTrainer("echo starting; while :; do sleep 0.1; done");
        Scripts.Result start = Scripts.run(Map.of("PARALLAX_TRAINER", trainer.toString()), Duration.ofMinutes(1),
                "start-cluster.sh", "--run-dir", run.toString(), "--timeout", "2");
        assertEquals(1, start.exitCode(), start.toString());
        assertTrue(start.output().contains("timed out after 2s waiting for 'coordinator up'"), start.toString());
        java.util.regex.Matcher stopped = java.util.regex.Pattern.compile("coordinator \\(pid (\\d+)\\) stopped")
                .matcher(start.output());
        assertTrue(stopped.find(), "the failed start stopped its coordinator: " + start);
        assertFalse(Scripts.alive(Long.parseLong(stopped.group(1))), start.toString());
        try (var files = Files.list(run)) {
            assertEquals(0, files.filter(f -> f.toString().endsWith(".pid")).count());
        }
    }

    @Test
    void superviseNodeHasAHelpAndRunsNoOptionAsTheCommand() throws Exception {
        Scripts.Result help = Scripts.run(Map.of(), Duration.ofMinutes(1), "supervise-node.sh", "--help");
        assertEquals(0, help.exitCode(), help.toString());
        assertTrue(help.output().startsWith("Usage: deploy/supervise-node.sh"), help.toString());
        assertFalse(help.output().contains("command not found"), help.toString());
        Scripts.Result bad = Scripts.run(Map.of(), Duration.ofMinutes(1), "supervise-node.sh", "--bogus");
        assertEquals(2, bad.exitCode(), bad.toString());
        assertEquals("supervise-node: unknown option '--bogus' (try --help)", bad.output().strip());
        Scripts.Result none = Scripts.run(Map.of(), Duration.ofMinutes(1), "supervise-node.sh", "--name", "w");
        assertEquals(2, none.exitCode(), none.toString());
        assertTrue(none.output().contains("no command given"), none.toString());
        Scripts.Result budget = Scripts.run(Map.of("PARALLAX_NODE_RESTARTS", "many"), Duration.ofMinutes(1),
                "supervise-node.sh", "true");
        assertEquals(2, budget.exitCode(), budget.toString());
        assertTrue(budget.output().contains("PARALLAX_NODE_RESTARTS must be a whole number, got 'many'"), budget.toString());
    }

    /**
     * A node that ends in the Nth start as the Nth word of ACTIONS says: killed by a signal, or
     * an exit code. Each start is a line in the file COUNT.
     */
    private Path fakeNode() throws Exception {
        Path node = dir.resolve("fake-node.sh");
        Files.writeString(node, "n=$(( $(wc -l < \"$COUNT\" 2>/dev/null || echo 0) + 1 ))\n"
                + "echo start >> \"$COUNT\"\n"
                + "action=$(echo $ACTIONS | cut -d' ' -f$n)\n"
                + "echo \"fake node, start $n: $action\"\n"
                + "case $action in\n"
                + "  KILL|USR1|TERM) kill -$action $$ ;;\n"
                + "  *) exit $action ;;\n"
                + "esac\n");
        return node;
    }

    private Scripts.Result supervise(String actions, String restarts) throws Exception {
        Path count = dir.resolve("count-" + actions.replace(' ', '-'));
        return Scripts.run(Map.of("COUNT", count.toString(), "ACTIONS", actions, "PARALLAX_NODE_RESTARTS", restarts),
                Duration.ofMinutes(1), "supervise-node.sh", "--name", "worker-3", "--", "bash",
                fakeNode().toString());
    }

    private long starts(String actions) throws Exception {
        return Files.readAllLines(dir.resolve("count-" + actions.replace(' ', '-'))).size();
    }

    @Test
    void aCrashedNodeIsStartedAgainAndACleanStopOrAnErrorIsNot() throws Exception {
        Scripts.Result crashes = supervise("KILL USR1 255 6 0", "5");
        assertEquals(0, crashes.exitCode(), crashes.toString());
        assertEquals(5, starts("KILL USR1 255 6 0"), crashes.toString());
        for (String line : new String[] {
            "worker-3 was killed by SIGKILL (exit 137); starting it again (restart 1)",
            "worker-3 was killed by SIGUSR1 (exit 138); starting it again (restart 2)",
            "worker-3 exited 255 (a fatal error: see the lines above); starting it again (restart 3)",
            "worker-3 exited 6 (its cluster node was lost); starting it again (restart 4)"}) {
            assertTrue(crashes.output().contains(line), crashes.toString());
        }
        assertFalse(crashes.output().contains("not starting it again"), "a clean exit 0 is said by the node itself");
        assertFalse(crashes.output().contains("Killed"), "bash's own job report: " + crashes);
        // an error a restart would repeat, and a stop someone asked for
        String[][] ends = {
            {"1", "1", "worker-3 exited 1; not starting it again"},
            {"2", "2", "worker-3 exited 2; not starting it again"},
            {"TERM", "143", "worker-3 was killed by SIGTERM (exit 143); not starting it again"}};
        for (String[] end : ends) {
            Scripts.Result r = supervise(end[0], "5");
            assertEquals(Integer.parseInt(end[1]), r.exitCode(), r.toString());
            assertEquals(1, starts(end[0]), r.toString());
            assertTrue(r.output().contains(end[2]), r.toString());
        }
    }

    @Test
    void aStopInThePauseBeforeARestartIsSaidAndStartsNothing() throws Exception {
        Path count = dir.resolve("count-pause");
        Path out = dir.resolve("pause.out");
        ProcessBuilder pb = new ProcessBuilder(Scripts.ROOT.resolve("deploy/supervise-node.sh").toString(), "--name",
                "worker-3", "--", "bash", fakeNode().toString()).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().putAll(Map.of("COUNT", count.toString(), "ACTIONS", "KILL 0"));
        Process supervisor = pb.start();
        try {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.readString(out).contains("starting it again (restart 1)") && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            supervisor.destroy(); // SIGTERM, within the two seconds' pause
            assertTrue(supervisor.waitFor(10, TimeUnit.SECONDS), Files.readString(out));
            assertEquals(1, Files.readAllLines(count).size(), "started again after the stop: " + Files.readString(out));
            assertTrue(Files.readString(out).contains("worker-3: stopped before it was started again"),
                    Files.readString(out));
        } finally {
            supervisor.destroyForcibly();
        }
    }

    @Test
    void aNodeThatKeepsCrashingIsStartedAgainOnlySoOften() throws Exception {
        Scripts.Result r = supervise("KILL KILL KILL 0", "1");
        assertEquals(137, r.exitCode(), r.toString());
        assertEquals(2, starts("KILL KILL KILL 0"), r.toString());
        assertTrue(r.output().contains("worker-3 was killed by SIGKILL (exit 137) after 1 restart(s) in the last 10 "
                + "minutes; not starting it again (PARALLAX_NODE_RESTARTS=1)"), r.toString());
    }

    @Test
    void scriptsAreShellcheckClean() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/shellcheck")), "shellcheck is not installed");
        Process p = new ProcessBuilder("shellcheck", "-x", "deploy/start-cluster.sh", "deploy/stop-cluster.sh",
                "deploy/cluster-lib.sh", "deploy/supervise-node.sh", "deploy/trainer").directory(Scripts.ROOT.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
    }
}
