package io.parallax.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeSettingsTest {

    static final Path DOCUMENTED = Path.of("parallax.conf");

    @TempDir
    Path dir;

    @Test
    void defaultsAreTheDocumentedFile() {
        NodeSettings s = NodeSettings.load(null, Map.of());
        assertEquals("127.0.0.1", s.host());
        assertEquals(2551, s.coordinatorPort());
        assertEquals(50051, s.grpcPort());
        assertEquals(Path.of("runs/coordinator"), s.stateDir());
        assertEquals(Path.of("runs/cluster"), s.runDir());
        assertEquals(Duration.ofSeconds(60), s.stepTimeout());
        assertEquals(Duration.ofSeconds(120), s.workerWait());
        assertEquals(100, s.queueSize());
        assertEquals(Duration.ofSeconds(60), s.checkpointEvery());
        assertEquals("127.0.0.1:2551", s.join());
        assertEquals(0, s.workerPort());
        assertEquals(1, s.computeThreads());
        assertEquals(Duration.ofSeconds(30), s.planeDeadline());
        assertEquals(List.of(), s.dataRoots());
        assertEquals(NodeSettings.Discovery.SEED, s.discovery());
        assertEquals(8558, s.managementPort());
        assertEquals(NodeSettings.load(DOCUMENTED, Map.of()).toString(), s.toString(),
                "the jar's defaults are deploy/parallax.conf");
    }

    @Test
    void everyKeyIsDocumentedWithItsEnvironmentVariable() throws Exception {
        String text = Files.readString(DOCUMENTED);
        NodeSettings.ENVIRONMENT.forEach((key, variable) -> {
            String leaf = key.substring(key.lastIndexOf('.') + 1);
            assertTrue(text.contains(leaf + " = ${?" + variable + "}"), key + " lacks its line '" + leaf
                    + " = ${?" + variable + "}' in deploy/parallax.conf");
        });
        long substitutions = text.lines().filter(l -> !l.strip().startsWith("#") && l.contains("${?PARALLAX_")).count();
        assertEquals(NodeSettings.ENVIRONMENT.size(), substitutions,
                "every ${?PARALLAX_...} in the file is a known setting");
    }

    @Test
    void precedenceIsFlagThenEnvironmentThenFileThenDefaults() throws Exception {
        Path file = dir.resolve("my.conf");
        // a file of one's own, without the ${?...} lines: the environment must still win
        Files.writeString(file, """
                parallax.coordinator { grpc-port = 6000, port = 2600, step-timeout = 90s }
                parallax.worker.compute-threads = 3
                """);
        Map<String, String> env = Map.of("PARALLAX_GRPC_PORT", "7000", "PARALLAX_WORKER_WAIT", "5m",
                "PARALLAX_DATA_ROOTS", "/a:/b");
        NodeSettings s = NodeSettings.load(file, env);
        assertEquals(7000, s.grpcPort(), "environment over file");
        assertEquals(2600, s.coordinatorPort(), "file over defaults");
        assertEquals(Duration.ofSeconds(90), s.stepTimeout());
        assertEquals(Duration.ofMinutes(5), s.workerWait(), "environment over defaults");
        assertEquals(3, s.computeThreads());
        assertEquals(List.of(Path.of("/a"), Path.of("/b")), s.dataRoots());
        assertEquals(50051, s.with("coordinator.grpc-port", null).with("coordinator.grpc-port", 50051).grpcPort(),
                "a flag over the environment");
        assertEquals(8000, NodeSettings.or(8000, s.grpcPort()));
        assertEquals(7000, (int) NodeSettings.or(null, s.grpcPort()));
    }

    @Test
    void aDurationNeedsAUnitAndAtLeastASecondAndTheKeyIsNamed() throws Exception {
        // HOCON reads a bare number as milliseconds: 90 would be a 0.09 s step timeout
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.load(null, Map.of("PARALLAX_STEP_TIMEOUT", "90")));
        assertEquals("parallax.coordinator.step-timeout (PARALLAX_STEP_TIMEOUT) needs a unit, e.g. 90s; got 90 (a "
                + "number alone would be milliseconds)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.load(null, Map.of("PARALLAX_PLANE_DEADLINE", "500ms")));
        assertEquals("parallax.worker.plane-deadline (PARALLAX_PLANE_DEADLINE) must be at least 1 second, got 500ms",
                e.getMessage());
        Path file = dir.resolve("wait.conf");
        Files.writeString(file, "parallax.coordinator.worker-wait = 300\n");
        e = assertThrows(IllegalArgumentException.class, () -> NodeSettings.load(file, Map.of()));
        assertTrue(e.getMessage().startsWith("parallax.coordinator.worker-wait (PARALLAX_WORKER_WAIT) needs a unit"),
                e.getMessage());
        assertEquals(Duration.ofMinutes(2), NodeSettings.load(null, Map.of("PARALLAX_STEP_TIMEOUT", "2 minutes"))
                .stepTimeout());
    }

    @Test
    void theQueueSizeAndTheCheckpointIntervalAreSettingsToo() throws Exception {
        Path file = dir.resolve("queue.conf");
        Files.writeString(file, "parallax.coordinator { queue-size = 7, checkpoint-every = 5m }\n");
        NodeSettings s = NodeSettings.load(file, Map.of());
        assertEquals(7, s.queueSize());
        assertEquals(Duration.ofMinutes(5), s.checkpointEvery());
        s = NodeSettings.load(file, Map.of("PARALLAX_QUEUE_SIZE", "3", "PARALLAX_CHECKPOINT_EVERY", "0s"));
        assertEquals(3, s.queueSize(), "environment over file");
        assertEquals(Duration.ZERO, s.checkpointEvery(), "0s: after every epoch only");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.load(null, Map.of("PARALLAX_QUEUE_SIZE", "0")));
        assertEquals("parallax.coordinator.queue-size (PARALLAX_QUEUE_SIZE) must be >= 1, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.load(null, Map.of("PARALLAX_CHECKPOINT_EVERY", "60")));
        assertTrue(e.getMessage().startsWith("parallax.coordinator.checkpoint-every (PARALLAX_CHECKPOINT_EVERY) needs a "
                + "unit"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.load(null, Map.of("PARALLAX_CHECKPOINT_EVERY", "-1s")));
        assertEquals("parallax.coordinator.checkpoint-every (PARALLAX_CHECKPOINT_EVERY) must be at least 0, got -1s",
                e.getMessage());
    }

    @Test
    void badValuesFailWithTheKeyNamed() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.load(null, Map.of("PARALLAX_GRPC_PORT", "70000")));
        assertTrue(e.getMessage().contains("parallax.coordinator.grpc-port"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.load(null, Map.of("PARALLAX_STEP_TIMEOUT", "soon")));
        assertTrue(e.getMessage().contains("step-timeout"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.load(null, Map.of("PARALLAX_DISCOVERY", "dns")));
        assertTrue(e.getMessage().contains("parallax.discovery.method"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.load(null, Map.of("PARALLAX_JOIN", "nohostport")));
        assertTrue(e.getMessage().contains("parallax.worker.join"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NodeSettings.load(dir.resolve("missing.conf"), Map.of()));
        assertTrue(e.getMessage().contains("missing.conf"), e.getMessage());
        Path broken = dir.resolve("broken.conf");
        Files.writeString(broken, "parallax { host = ");
        assertThrows(IllegalArgumentException.class, () -> NodeSettings.load(broken, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> NodeSettings.load(null, Map.of()).with("worker.threads", 2),
                "unknown key");
    }

    @Test
    void aMisspeltSettingInTheFileIsRefusedWithTheOneMeant() throws Exception {
        Path typo = Files.writeString(dir.resolve("typo.conf"),
                "parallax { coordinator { grpc-prot = 28070 }, worker.plane-deadline = 9s, colour = blue }\n"
                        + "akka.loglevel = DEBUG\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NodeSettings.load(typo, Map.of()));
        assertTrue(e.getMessage().startsWith("configuration file " + typo + ": unknown settings "
                + "parallax.coordinator.grpc-prot (parallax.coordinator.grpc-port?), parallax.colour; the settings are "
                + "[parallax.host, "), e.getMessage());
        // the right keys, a section given whole, and other sections than parallax load
        Path fine = Files.writeString(dir.resolve("fine.conf"),
                "parallax { coordinator { grpc-port = 28070 }, worker.plane-deadline = 9s }\nakka.loglevel = DEBUG\n");
        assertEquals(28070, NodeSettings.load(fine, Map.of()).grpcPort());
    }

    @Test
    void kubernetesDiscoveryDropsTheSeedsAndConfiguresBootstrap() throws Exception {
        Path file = dir.resolve("k8s.conf");
        Files.writeString(file, """
                parallax.discovery { method = kubernetes, management-port = 8600 }
                akka.cluster.failure-detector.acceptable-heartbeat-pause = 7s
                """);
        NodeSettings s = NodeSettings.load(file, Map.of("PARALLAX_HOST", "10.0.0.7"));
        Config c = NodeConfig.worker(s, s.host(), 0, s.join(), 2);
        assertEquals(List.of(), c.getStringList("akka.cluster.seed-nodes"));
        assertEquals("kubernetes-api", c.getString("akka.management.cluster.bootstrap.contact-point-discovery.discovery-method"));
        assertEquals("parallax-coordinator", c.getString("akka.management.cluster.bootstrap.contact-point-discovery.service-name"));
        assertEquals(1, c.getInt("akka.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr"));
        assertEquals(8600, c.getInt("akka.management.http.port"));
        assertEquals("10.0.0.7", c.getString("akka.management.http.hostname"));
        assertEquals("10.0.0.7", c.getString("akka.remote.artery.canonical.hostname"));
        assertEquals(Duration.ofSeconds(7), c.getDuration("akka.cluster.failure-detector.acceptable-heartbeat-pause"),
                "the file's akka block reaches Akka");
        assertEquals(2, c.getInt("parallax.compute-dispatcher.thread-pool-executor.fixed-pool-size"));

        Config seed = NodeConfig.worker(NodeSettings.load(null, Map.of()), "127.0.0.1", 0, "10.1.1.1:2551", 1);
        assertEquals(List.of("akka://parallax@10.1.1.1:2551"), seed.getStringList("akka.cluster.seed-nodes"));
        Config coordinator = NodeConfig.coordinator(NodeSettings.load(null, Map.of()), "127.0.0.1", 2552);
        assertEquals(List.of("akka://parallax@127.0.0.1:2552"), coordinator.getStringList("akka.cluster.seed-nodes"));
    }
}
