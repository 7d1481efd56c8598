package io.parallax.deploy;

import akka.actor.Address;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Down;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A cluster member that a test starts in its own JVM to act on a coordinator's cluster from
 * inside it, as the split-brain resolver would after a long pause.
 */
public final class ClusterMemberForTests {

    private ClusterMemberForTests() {}

    /**
     * Joins the cluster of the coordinator at {@code host:port}, downs the coordinator's node,
     * and stays until {@code stopped} says the coordinator has noticed (it stops with exit code 6),
     * then leaves.
     */
    public static void downCoordinator(String host, int port, BooleanSupplier stopped) throws Exception {
        ActorSystem<Void> member = ActorSystem.create(Behaviors.empty(), NodeConfig.SYSTEM_NAME,
                NodeConfig.worker(host, 0, host, port, 1));
        try {
            Cluster cluster = Cluster.get(member);
            long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (cluster.selfMember().status() != MemberStatus.up()) {
                if (System.nanoTime() > until) {
                    throw new AssertionError("did not join the cluster at " + host + ":" + port + " within 60 s");
                }
                Thread.sleep(50);
            }
            cluster.manager().tell(new Down(new Address("akka", NodeConfig.SYSTEM_NAME, host, port)));
            until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!stopped.getAsBoolean()) {
                if (System.nanoTime() > until) {
                    throw new AssertionError("the coordinator at " + host + ":" + port + " did not stop within 60 s"
                            + " of being downed");
                }
                Thread.sleep(100);
            }
        } finally {
            member.terminate();
            member.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }
}
