package io.parallax.deploy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.List;

/**
 * Akka configuration for the three kinds of node, layered over each module's reference.conf.
 * All nodes share the actor-system name {@code parallax}; the coordinator is the cluster's seed.
 */
final class NodeConfig {

    static final String SYSTEM_NAME = "parallax";

    private NodeConfig() {}

    /** The coordinator: a cluster node at host:port that is its own seed. */
    static Config coordinator(String host, int port) {
        return cluster(host, port, List.of(address(host, port)), 1);
    }

    /** A worker joining the cluster whose seed (the coordinator) is at joinHost:joinPort. */
    static Config worker(String host, int port, String joinHost, int joinPort, int computeThreads) {
        return cluster(host, port, List.of(address(joinHost, joinPort)), computeThreads);
    }

    static String address(String host, int port) {
        return "akka://" + SYSTEM_NAME + "@" + host + ":" + port;
    }

    private static Config cluster(String host, int port, List<String> seeds, int computeThreads) {
        StringBuilder seedList = new StringBuilder();
        for (String s : seeds) {
            seedList.append(seedList.length() == 0 ? "" : ", ").append('"').append(s).append('"');
        }
        return ConfigFactory.parseString(
                "akka.actor.provider = cluster\n"
                        + "akka.remote.artery.canonical.hostname = \"" + host + "\"\n"
                        + "akka.remote.artery.canonical.port = " + port + "\n"
                        + "akka.cluster.seed-nodes = [" + seedList + "]\n"
                        + "parallax.compute-dispatcher.thread-pool-executor.fixed-pool-size = " + computeThreads + "\n")
                .withFallback(ConfigFactory.load());
    }
}
