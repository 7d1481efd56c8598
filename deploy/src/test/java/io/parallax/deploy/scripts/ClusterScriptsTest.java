package io.parallax.deploy.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.parallax.deploy.ClusterMemberForTests;
import io.parallax.deploy.TrainerCli;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/start-cluster.sh and deploy/stop-cluster.sh with real processes on 127.0.0.1: the
 * cluster comes up with every worker joined, and stop leaves no process and no pid file behind.
 */
@Tag("slow")
class ClusterScriptsTest {

    @TempDir
    Path dir;

    private Path runDir;
    private Map<String, String> env;

    @AfterEach
    void stopWhateverIsLeft() throws Exception {
        // a failed assertion must not leave the cluster running
        if (runDir != null && Files.isDirectory(runDir)) {
            Scripts.run(env, Duration.ofMinutes(1), "stop-cluster.sh", "--run-dir", runDir.toString());
        }
    }

    private List<Path> pidFiles() throws Exception {
        try (Stream<Path> files = Files.list(runDir)) {
            return files.filter(f -> f.toString().endsWith(".pid")).sorted().toList();
        }
    }

    /** Starts with the given extra arguments, checks the cluster, stops it twice. */
    private void startCheckAndStop(int expectedWorkers, String... extra) throws Exception {
        int akka = Scripts.freePort();
        int grpc = Scripts.freePort();
        List<String> args = new ArrayList<>(List.of("--run-dir", runDir.toString(), "--port", String.valueOf(akka),
                "--grpc-port", String.valueOf(grpc), "--timeout", "240"));
        args.addAll(List.of(extra));
        Scripts.Result start = Scripts.run(env, Duration.ofMinutes(5), "start-cluster.sh", args.toArray(String[]::new));
        assertEquals(0, start.exitCode(), start.toString());
        assertTrue(start.output().contains("coordinator gRPC address: 127.0.0.1:" + grpc), start.toString());
        // the jobs' files are not in the run folder: it says where they are
        assertTrue(start.output().matches("(?s).*\njob records, models and checkpoints: /\\S+( on \\S+)? \\(the coordinator's "
                + "--state-dir\\)\n.*"), start.toString());
        // not the client commands' default address: the script says how to point them at it
        assertTrue(start.output().contains("export PARALLAX_SERVER=127.0.0.1:" + grpc), start.toString());
        assertEquals("127.0.0.1:" + grpc, Files.readString(runDir.resolve("grpc-address")).trim());

        String coordinatorLog = Files.readString(runDir.resolve("coordinator.log"));
        assertTrue(coordinatorLog.contains("coordinator up: cluster akka://parallax@127.0.0.1:" + akka), coordinatorLog);
        assertTrue(coordinatorLog.contains(expectedWorkers + " worker(s) live"), coordinatorLog);
        // a node's log lines say when: ISO 8601 to the millisecond, with the zone's offset
        assertTrue(coordinatorLog.lines().filter(l -> l.contains(" worker(s) live")).allMatch(l -> l.matches(
                "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) .*")), coordinatorLog);
        List<Path> pidFiles = pidFiles();
        assertEquals(1 + expectedWorkers, pidFiles.size(), pidFiles.toString());
        List<Long> pids = new ArrayList<>();
        for (Path pidFile : pidFiles) {
            long pid = Scripts.pid(pidFile);
            assertTrue(Scripts.alive(pid), pidFile + ": pid " + pid + " is running");
            pids.add(pid);
        }
        for (int w = 1; w <= expectedWorkers; w++) {
            String log = Files.readString(runDir.resolve("worker-" + w + ".log"));
            assertTrue(log.contains("joining akka://parallax@127.0.0.1:" + akka), log);
            assertTrue(log.contains("Welcome from [akka://parallax@127.0.0.1:" + akka + "]"), log);
        }

        Scripts.Result again = Scripts.run(env, Duration.ofMinutes(1), "start-cluster.sh", args.toArray(String[]::new));
        assertEquals(2, again.exitCode(), "a second start over a running cluster is refused: " + again);
        assertTrue(again.output().contains("still running"), again.toString());
        assertEquals(pidFiles, pidFiles(), "and it leaves the running cluster's pid files alone");

        Scripts.Result stop = Scripts.run(env, Duration.ofMinutes(2), "stop-cluster.sh", "--run-dir", runDir.toString());
        assertEquals(0, stop.exitCode(), stop.toString());
        for (long pid : pids) {
            assertFalse(Scripts.alive(pid), "pid " + pid + " still runs after stop-cluster.sh: " + Scripts.describe(pid)
                    + "\n" + stop);
        }
        assertTrue(stop.output().contains("coordinator (pid " + pids.get(0)), stop.toString());
        assertEquals(List.of(), pidFiles(), "stop removes the pid files");

        Scripts.Result twice = Scripts.run(env, Duration.ofMinutes(1), "stop-cluster.sh", "--run-dir", runDir.toString());
        assertEquals(0, twice.exitCode(), twice.toString());
        assertTrue(twice.output().contains("nothing to stop"), twice.toString());
    }

    @Test
    void twoWorkersOnThisMachineJoinAndStopLeavesNothingBehind() throws Exception {
        runDir = dir.resolve("run");
        env = Map.of("PARALLAX_TRAINER", Scripts.trainerOnTestClassPath(dir).toString());
        // the workers' ports pinned, one after the other from the base
        int base = Scripts.freePortPair();
        startCheckAndStop(2, "--workers", "2", "--worker-port-base", String.valueOf(base));
        for (int w = 1; w <= 2; w++) {
            String log = Files.readString(runDir.resolve("worker-" + w + ".log"));
            assertTrue(log.contains("listening on address [akka://parallax@127.0.0.1:" + (base + w - 1) + "]"), log);
        }
    }

    @Test
    void aHostsFileStartsTheNodesOverSsh() throws Exception {
        // an "ssh" that runs the remote command here: the scripts take their remote path
        // (commands shipped to `bash -s`, logs in the remote run folder); its environment holds
        // an invalid thread count that only the forwarded PARALLAX_WORKER_THREADS=1 overrides
        Path ssh = dir.resolve("fake-ssh");
        Files.writeString(ssh, "#!/bin/sh\n[ \"$1\" = 127.0.0.1 ] || exit 255\nshift\nexec env PARALLAX_WORKER_THREADS=0 sh -c \"$*\"\n");
        Files.setPosixFilePermissions(ssh, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path hosts = dir.resolve("hosts");
        Files.writeString(hosts, "# coordinator first\n127.0.0.1\n127.0.0.1   # two workers here\n127.0.0.1\n");
        runDir = dir.resolve("run");
        env = Map.of("PARALLAX_TRAINER", Scripts.trainerOnTestClassPath(dir).toString(), "PARALLAX_SSH", ssh.toString(),
                "PARALLAX_WORKER_THREADS", "1");
        startCheckAndStop(2, "--hosts", hosts.toString());
    }

    @Test
    void aWorkerThatDiesAtStartFailsTheStartAtOnceWithItsLog() throws Exception {
        runDir = dir.resolve("run");
        env = Map.of("PARALLAX_TRAINER", Scripts.trainerOnTestClassPath(dir).toString());
        long start = System.nanoTime();
        Scripts.Result r = Scripts.run(env, Duration.ofMinutes(3), "start-cluster.sh", "--run-dir", runDir.toString(),
                "--port", String.valueOf(Scripts.freePort()), "--grpc-port", String.valueOf(Scripts.freePort()),
                "--timeout", "240", "--workers", "1", "--worker-arg", "--threads=0");
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(1, r.exitCode(), r.toString());
        assertTrue(r.output().contains("start-cluster: worker-1 on this machine exited before joining"), r.toString());
        assertTrue(r.output().contains("--threads must be >= 1, got 0"), r.toString());
        assertTrue(seconds < 120, "waited " + seconds + " s, not the 240 s timeout");
        assertEquals(List.of(), pidFiles(), "what was started is stopped");
    }

    /**
     * Every node runs under supervise-node.sh: a coordinator or a worker killed outright (a
     * crash) is started again and the cluster comes back whole. A coordinator whose supervisor
     * is killed outright stops with it, and --coordinator-only starts it again alone.
     */
    @Test
    void crashedNodesAreStartedAgainAndACoordinatorWithoutItsSupervisorByCoordinatorOnly() throws Exception {
        runDir = dir.resolve("run");
        env = Map.of("PARALLAX_TRAINER", Scripts.trainerOnTestClassPath(dir).toString());
        String[] args = {"--run-dir", runDir.toString(), "--port", String.valueOf(Scripts.freePort()),
                "--grpc-port", String.valueOf(Scripts.freePort()), "--timeout", "240", "--workers", "1"};
        Scripts.Result start = Scripts.run(env, Duration.ofMinutes(5), "start-cluster.sh", args);
        assertEquals(0, start.exitCode(), start.toString());
        long worker = Scripts.pid(runDir.resolve("worker-1.pid"));
        long supervisor = Scripts.pid(runDir.resolve("coordinator.pid"));
        Path coordinatorLog = runDir.resolve("coordinator.log");
        Path workerLog = runDir.resolve("worker-1.log");

        ProcessHandle killed = nodeUnder(supervisor);
        killed.destroyForcibly();
        awaitLog(coordinatorLog, Duration.ofSeconds(60), text -> text.contains(
                "coordinator was killed by SIGKILL (exit 137); starting it again (restart 1)"));
        // the worker notices the coordinator gone and rejoins the new one
        awaitLog(coordinatorLog, Duration.ofMinutes(2), text -> after(text, "starting it again (restart 1)")
                .contains("1 worker(s) live"));
        assertTrue(nodeUnder(supervisor).pid() != killed.pid() && Scripts.alive(worker));

        ProcessHandle killedWorker = nodeUnder(worker);
        int logBefore = Files.readString(coordinatorLog).length();
        killedWorker.destroyForcibly();
        awaitLog(workerLog, Duration.ofSeconds(60), text -> text.contains(
                "worker-1 was killed by SIGKILL (exit 137); starting it again (restart 1)"));
        // the coordinator sees the old one go and the new one join, in either order
        awaitLog(coordinatorLog, Duration.ofMinutes(2), text -> Pattern.compile(
                "[02] worker\\(s\\) live[\\s\\S]*1 worker\\(s\\) live").matcher(text.substring(logBefore)).find());
        assertTrue(nodeUnder(worker).pid() != killedWorker.pid());

        // a supervisor killed outright cannot pass a stop on: its coordinator stops by itself
        ProcessHandle orphan = nodeUnder(supervisor);
        ProcessHandle.of(supervisor).orElseThrow().destroyForcibly();
        orphan.onExit().get(60, TimeUnit.SECONDS);
        assertTrue(Files.readString(coordinatorLog).contains("trainer: coordinator: its supervisor (pid " + supervisor
                + ") is gone; stopping"), Files.readString(coordinatorLog));

        List<String> again = new ArrayList<>(List.of(args));
        again.add("--coordinator-only");
        Scripts.Result restart = Scripts.run(env, Duration.ofMinutes(5), "start-cluster.sh", again.toArray(String[]::new));
        assertEquals(0, restart.exitCode(), restart.toString());
        assertTrue(restart.output().contains("1 worker(s)"), restart.toString());
        long coordinator = Scripts.pid(runDir.resolve("coordinator.pid"));
        assertTrue(coordinator != supervisor && Scripts.alive(coordinator) && Scripts.alive(worker));
        assertTrue(Files.exists(runDir.resolve("coordinator.log.1")), "the earlier coordinator's log is kept");
        // a second one is refused while this one runs, and the worker is left alone
        Scripts.Result twice = Scripts.run(env, Duration.ofMinutes(1), "start-cluster.sh", again.toArray(String[]::new));
        assertEquals(2, twice.exitCode(), twice.toString());
        assertTrue(twice.output().contains("the coordinator started from") && twice.output().contains(
                "its supervisor, which starts it again after a crash; a kill of that pid stops the coordinator alone"),
                twice.toString());
        assertTrue(Scripts.alive(worker));

        ProcessHandle coordinatorJvm = nodeUnder(coordinator);
        ProcessHandle workerJvm = nodeUnder(worker);
        Scripts.Result stop = Scripts.run(env, Duration.ofMinutes(2), "stop-cluster.sh", "--run-dir", runDir.toString());
        assertEquals(0, stop.exitCode(), stop.toString());
        assertFalse(Scripts.alive(coordinator) || Scripts.alive(worker) || coordinatorJvm.isAlive()
                || workerJvm.isAlive(), stop.toString());
        assertEquals(List.of(), pidFiles());
    }

    /** What follows the last MARKER in TEXT ("" without one). */
    private static String after(String text, String marker) {
        int at = text.lastIndexOf(marker);
        return at < 0 ? "" : text.substring(at + marker.length());
    }

    /**
     * A coordinator whose cluster node is downed while it trains (as the split-brain resolver may
     * after a long pause) exits 6; start-cluster.sh's supervisor starts it again, its worker
     * rejoins, and the job resumes from its checkpoint: every epoch is trained once.
     */
    @Test
    void aCoordinatorDownedWhileTrainingIsStartedAgainAndItsJobResumes() throws Exception {
        runDir = dir.resolve("run");
        env = Map.of("PARALLAX_TRAINER", Scripts.trainerOnTestClassPath(dir).toString());
        int akka = Scripts.freePort();
        int grpc = Scripts.freePort();
        Path state = dir.resolve("state");
        Scripts.Result start = Scripts.run(env, Duration.ofMinutes(5), "start-cluster.sh", "--run-dir",
                runDir.toString(), "--port", String.valueOf(akka), "--grpc-port", String.valueOf(grpc), "--timeout",
                "240", "--workers", "1", "--coordinator-arg=--state-dir=" + state, "--coordinator-arg",
                "--checkpoint-every=0");
        assertEquals(0, start.exitCode(), start.toString());
        long supervisor = Scripts.pid(runDir.resolve("coordinator.pid"));
        long worker = Scripts.pid(runDir.resolve("worker-1.pid"));
        ProcessHandle downed = nodeUnder(supervisor);
        Path log = runDir.resolve("coordinator.log");
        String server = "127.0.0.1:" + grpc;
        Path job = dir.resolve("digits.json");
        Files.writeString(job, Files.readString(Scripts.ROOT.resolve("examples/digits.json"))
                .replace("data/digits.csv.gz", Scripts.ROOT.resolve("examples/data/digits.csv.gz").toString())
                .replaceFirst("\"epochs\":\\s*\\d+", "\"epochs\": " + EPOCHS)
                .replaceFirst("\"batch_size\":\\s*\\d+", "\"batch_size\": 16"));
        assertEquals(0, TrainerCli.commandLine().execute("submit", "--server", server, "--job", job.toString()));
        awaitLog(log, Duration.ofMinutes(3), text -> text.contains("epoch   2 "));
        // among the log's lines, a job's epoch says when and which job
        assertTrue(Files.readString(log).lines().anyMatch(l -> l.matches("\\d{4}-\\d\\d-\\d\\dT[0-9:.]{12}\\S* job-000001 "
                + "epoch   2  train_loss .*")), Files.readString(log));
        // a watch started before the downing follows the job across the restart (--reconnect)
        CompletableFuture<Integer> watch = CompletableFuture.supplyAsync(() -> TrainerCli.commandLine()
                .execute("watch", "job-000001", "--server", server, "--progress", "plain"));

        long downing = System.nanoTime();
        try {
            ClusterMemberForTests.downCoordinator("127.0.0.1", akka, () -> !downed.isAlive());
            // its step in flight gives up on the lost worker at once, not after the 60 s step timeout
            assertTrue(System.nanoTime() - downing < TimeUnit.SECONDS.toNanos(30),
                    "the downed coordinator took " + (System.nanoTime() - downing) / 1_000_000 + " ms to exit");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; its log:\n" + readQuietly(log) + "\nworker:\n"
                    + readQuietly(runDir.resolve("worker-1.log")), e);
        }
        String restarted = "coordinator exited 6 (its cluster node was lost); starting it again (restart 1)";
        awaitLog(log, Duration.ofSeconds(120), text -> text.contains(restarted));
        assertEquals(0, watch.get(3, TimeUnit.MINUTES), readQuietly(log));
        String text = Files.readString(log);
        assertTrue(text.contains("trainer: coordinator: its cluster node was downed"), text);
        // what the job trains on, in the operator's log
        assertTrue(text.contains("job job-000001 data: " + Scripts.ROOT.resolve("examples/data/digits.csv.gz")
                + " — 1438 training rows, 359 validation rows, 64 features (pixel0, "), text);
        assertTrue(text.substring(text.indexOf(restarted)).contains("resuming from the checkpoint "), text);
        List<String> epochs = Files.readAllLines(state.resolve("jobs/job-000001/metrics.jsonl"));
        assertEquals(EPOCHS, epochs.size(), "every epoch trained, once: " + epochs);
        ObjectMapper json = new ObjectMapper();
        for (int e = 1; e <= EPOCHS; e++) {
            assertEquals(e, json.readTree(epochs.get(e - 1)).get("epoch").asInt(), epochs.get(e - 1));
        }
        ProcessHandle again = nodeUnder(supervisor);
        assertTrue(again.pid() != downed.pid() && Scripts.alive(supervisor) && Scripts.alive(worker), text);

        Scripts.Result stop = Scripts.run(env, Duration.ofMinutes(2), "stop-cluster.sh", "--run-dir", runDir.toString());
        assertEquals(0, stop.exitCode(), stop.toString());
        again.onExit().get(30, TimeUnit.SECONDS);
        assertFalse(Scripts.alive(supervisor) || Scripts.alive(worker) || Scripts.alive(again.pid()), stop.toString());
        assertEquals(List.of(), pidFiles());
    }

    /**
     * Epochs of the job the downed coordinator trains, at batch 16: about 25 s on 2 cores, so
     * that it is still running when it is downed (a few seconds after its second epoch).
     */
    private static final int EPOCHS = 60;

    /** A node's JVM: the one child of its supervise-node.sh. */
    private static ProcessHandle nodeUnder(long supervisor) throws Exception {
        // between a crash and the restart the supervisor has no child for about two seconds
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            List<ProcessHandle> children = ProcessHandle.of(supervisor).orElseThrow().children().toList();
            if (children.size() == 1 || System.nanoTime() > until) {
                assertEquals(1, children.size(), "children of supervise-node.sh (pid " + supervisor + "): " + children);
                return children.get(0);
            }
            Thread.sleep(100);
        }
    }

    private static void awaitLog(Path log, Duration timeout, Predicate<String> condition) throws Exception {
        long until = System.nanoTime() + timeout.toNanos();
        while (!condition.test(Files.readString(log))) {
            assertTrue(System.nanoTime() < until, () -> "waited " + timeout + " for " + log + ":\n" + readQuietly(log));
            Thread.sleep(200);
        }
    }

    private static String readQuietly(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
