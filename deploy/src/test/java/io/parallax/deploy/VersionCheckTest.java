package io.parallax.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** A worker of another Parallax version is refused when it joins; one of the same version joins. */
class VersionCheckTest {

    @Test
    void theBuildKnowsItsVersion() {
        assertNotEquals("unknown", ParallaxVersion.get());
        assertFalse(ParallaxVersion.get().isBlank());
    }

    @Test
    void aWorkerOfAnotherVersionIsRefusedAndOneOfTheSameJoins() throws Exception {
        int port = freePort();
        ActorSystem<Void> coordinator = ActorSystem.create(Behaviors.empty(), NodeConfig.SYSTEM_NAME,
                NodeConfig.coordinator("127.0.0.1", port));
        try {
            Config old = NodeConfig.worker("127.0.0.1", 0, "127.0.0.1", port, 1)
                    .withValue(VersionCompatChecker.KEY, ConfigValueFactory.fromAnyRef("0.0.9"));
            ActorSystem<Void> refused = ActorSystem.create(Behaviors.empty(), NodeConfig.SYSTEM_NAME, old);
            refused.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
            assertEquals(CoordinatedShutdown.incompatibleConfigurationDetectedReason(),
                    CoordinatedShutdown.get(refused).getShutdownReason().orElse(null));
            assertEquals(1, Cluster.get(coordinator).state().getMembers().spliterator().getExactSizeIfKnown(),
                    Cluster.get(coordinator).state().toString());

            ActorSystem<Void> same = ActorSystem.create(Behaviors.empty(), NodeConfig.SYSTEM_NAME,
                    NodeConfig.worker("127.0.0.1", 0, "127.0.0.1", port, 1));
            try {
                long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (Cluster.get(same).selfMember().status() != MemberStatus.up()) {
                    if (System.nanoTime() > until) {
                        throw new AssertionError("a worker of the same version did not join within 60 s");
                    }
                    Thread.sleep(50);
                }
            } finally {
                same.terminate();
                same.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
        } finally {
            coordinator.terminate();
            coordinator.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aWorkerRefusedForItsVersionSaysSoAndExitsWithAnError() throws Exception {
        int port = freePort();
        Config newer = NodeConfig.coordinator("127.0.0.1", port)
                .withValue(VersionCompatChecker.KEY, ConfigValueFactory.fromAnyRef("9.9.9"));
        ActorSystem<Void> coordinator = ActorSystem.create(Behaviors.empty(), NodeConfig.SYSTEM_NAME, newer);
        try {
            CommandLine cl = TrainerCli.commandLine();
            StringWriter err = new StringWriter();
            cl.setErr(new PrintWriter(err, true));
            int code = CompletableFuture.supplyAsync(() -> cl.execute("worker", "--host", "127.0.0.1", "--port", "0",
                    "--join", "127.0.0.1:" + port)).get(90, TimeUnit.SECONDS);
            assertEquals(TrainerCli.JOB_FAILED, code, err.toString());
            assertTrue(err.toString().contains("refused this worker: its coordinator runs another version of Parallax "
                    + "than this worker's " + ParallaxVersion.get()), err.toString());
            assertFalse(err.toString().contains("\tat "), err.toString());
        } finally {
            coordinator.terminate();
            coordinator.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
