package io.parallax.deploy.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/trainer, the launcher, in a repository of its own with stand-ins for mvn and java: it
 * builds a missing or stale distribution, but not one that a running process was started from.
 */
class LauncherTest {

    @TempDir
    Path root;

    private Path dist;
    private Path marker;
    private Path source;
    private Path mvnLog;
    private Path bin;

    private static Path executable(Path file, String body) throws Exception {
        Files.createDirectories(file.getParent());
        Files.writeString(file, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    @BeforeEach
    void aBuiltDistributionAndNewerSources() throws Exception {
        Files.createDirectories(root.resolve("deploy"));
        Files.copy(Scripts.ROOT.resolve("deploy/trainer"), root.resolve("deploy/trainer"));
        dist = root.resolve("deploy/target/dist");
        Files.createDirectories(dist.resolve("lib"));
        marker = Files.writeString(dist.resolve(".built"), "");
        Files.setLastModifiedTime(marker, FileTime.from(Instant.now().minusSeconds(3600)));
        source = root.resolve("worker/src/main/java/A.java");
        Files.createDirectories(source.getParent());
        Files.writeString(source, "class A {}");
        mvnLog = root.resolve("mvn.log");
        bin = root.resolve("bin");
        // the stand-in build leaves the deploy jar where the launcher copies it from
        executable(bin.resolve("mvn"), "echo \"mvn $*\" >> '" + mvnLog + "'\nmkdir -p deploy/target\n"
                + "touch deploy/target/parallax-deploy-0.jar");
        executable(bin.resolve("java"), "echo \"java ran: $*\"");
    }

    private Scripts.Result trainer(Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(root.resolve("deploy/trainer").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(root.toFile()).redirectErrorStream(true);
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        pb.environment().remove("PARALLAX_REBUILD");
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        return new Scripts.Result(p.exitValue(), out);
    }

    /** A process whose command line holds the distribution's lib folder, as a node's java's does. */
    private Process node() throws Exception {
        return new ProcessBuilder("bash", "-c", "while :; do sleep 0.2; done", "node", "-cp", dist + "/lib/*").start();
    }

    private void sourcesChange() throws Exception {
        Files.setLastModifiedTime(marker, FileTime.from(Instant.now().minusSeconds(3600)));
    }

    @Test
    void aDistributionInUseIsNotRebuiltUnlessAskedTo() throws Exception {
        Process node = node();
        try {
            Scripts.Result r = trainer(Map.of(), "status");
            assertEquals(0, r.exitCode(), r.toString());
            assertTrue(r.output().contains("java ran:"), "it runs the distribution there: " + r);
            assertFalse(Files.exists(mvnLog), "no build under a running node: " + r);
            String warning = "trainer: the sources changed, but the distribution was not rebuilt: processes run from it "
                    + "(pids " + node.pid() + ")";
            assertTrue(r.output().contains(warning), r.toString());
            assertEquals(1, r.output().split("not rebuilt", -1).length - 1, "said once: " + r);
            assertTrue(r.output().contains("stop them and run again, or set PARALLAX_REBUILD=1"), r.toString());

            Scripts.Result forced = trainer(Map.of("PARALLAX_REBUILD", "1"), "status");
            assertEquals(0, forced.exitCode(), forced.toString());
            assertTrue(forced.output().contains("building the distribution"), forced.toString());
            assertEquals(1, Files.readAllLines(mvnLog).size(), "PARALLAX_REBUILD=1 builds: " + forced);
        } finally {
            node.destroyForcibly().waitFor();
        }
        sourcesChange();
        Scripts.Result free = trainer(Map.of(), "status");
        assertTrue(free.output().contains("building the distribution"), free.toString());
        assertFalse(free.output().contains("not rebuilt"), free.toString());
        assertEquals(2, Files.readAllLines(mvnLog).size(), "with nothing running from it, it builds: " + free);
        Scripts.Result fresh = trainer(Map.of(), "status");
        assertEquals("java ran: -Dparallax.home=" + root + " -cp " + dist + "/lib/* io.parallax.deploy.TrainerCli status",
                fresh.output().strip(), "a fresh distribution is run as it is");
    }

    @Test
    void aMissingDistributionIsBuiltEvenWhileAnotherRunsFromItsFolder() throws Exception {
        Files.delete(marker);
        Process node = node();
        try {
            Scripts.Result r = trainer(Map.of(), "--version");
            assertEquals(0, r.exitCode(), r.toString());
            assertTrue(r.output().contains("building the distribution"), r.toString());
            assertEquals(1, Files.readAllLines(mvnLog).size(), r.toString());
            assertTrue(Files.exists(marker));
        } finally {
            node.destroyForcibly().waitFor();
        }
    }
}
