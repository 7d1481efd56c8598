package io.parallax.deploy.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** stop-cluster.sh signals only the processes start-cluster.sh started, and shellcheck is clean. */
class StopClusterTest {

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
    }

    @Test
    void startRejectsBadOptionsBeforeStartingAnything() throws Exception {
        Scripts.Result start = Scripts.run(Map.of(), Duration.ofMinutes(1), "start-cluster.sh", "--run-dir",
                dir.toString(), "--workers", "two");
        assertEquals(2, start.exitCode(), start.toString());
        assertTrue(start.output().contains("--workers must be a number"), start.toString());
        start = Scripts.run(Map.of(), Duration.ofMinutes(1), "start-cluster.sh", "--run-dir", dir.toString(),
                "--hosts", dir.resolve("no-such-file").toString());
        assertEquals(2, start.exitCode(), start.toString());
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "nothing was started");
        }
    }

    @Test
    void scriptsAreShellcheckClean() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/shellcheck")), "shellcheck is not installed");
        Process p = new ProcessBuilder("shellcheck", "-x", "deploy/start-cluster.sh", "deploy/stop-cluster.sh",
                "deploy/cluster-lib.sh").directory(Scripts.ROOT.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
    }
}
