package io.parallax.deploy;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.ClusterEvent;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Subscribe;

/**
 * On a worker's node: stops the node when the coordinator leaves the cluster, so that the worker
 * can start a fresh node and join again. A coordinator that stops cleanly (SIGTERM, a restart)
 * leaves the cluster, and a worker that stayed would be a cluster of one that the restarted
 * coordinator never sees. (A coordinator that dies without leaving is unreachable instead; the
 * split-brain resolver then downs the worker's side, which stops the node just the same.)
 */
final class CoordinatorWatch {

    /** Why a worker's node stopped when the coordinator left. */
    static final CoordinatedShutdown.Reason COORDINATOR_LEFT = new CoordinatedShutdown.Reason() {
        @Override
        public String toString() {
            return "CoordinatorLeft";
        }
    };

    private CoordinatorWatch() {}

    static Behavior<ClusterEvent.MemberEvent> create() {
        return Behaviors.setup(ctx -> {
            Cluster.get(ctx.getSystem()).subscriptions()
                    .tell(Subscribe.create(ctx.getSelf(), ClusterEvent.MemberEvent.class));
            return Behaviors.receive(ClusterEvent.MemberEvent.class)
                    .onMessage(ClusterEvent.MemberEvent.class, event -> {
                        boolean leaving = event instanceof ClusterEvent.MemberLeft
                                || event instanceof ClusterEvent.MemberExited
                                || event instanceof ClusterEvent.MemberRemoved
                                || event instanceof ClusterEvent.MemberDowned;
                        // when this node is itself being downed it sees the coordinator go too;
                        // that shutdown is already under way, with its own reason
                        akka.cluster.MemberStatus self = Cluster.get(ctx.getSystem()).selfMember().status();
                        boolean selfUp = self == akka.cluster.MemberStatus.up()
                                || self == akka.cluster.MemberStatus.weaklyUp();
                        if (leaving && selfUp && event.member().hasRole(NodeConfig.COORDINATOR_ROLE)) {
                            System.out.println("worker: the coordinator at " + event.member().address()
                                    + " left the cluster; stopping this node to join again");
                            CoordinatedShutdown.get(ctx.getSystem()).runAll(COORDINATOR_LEFT);
                            return Behaviors.stopped();
                        }
                        return Behaviors.same();
                    })
                    .build();
        });
    }
}
