package io.parallax.deploy;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.management.cluster.bootstrap.ClusterBootstrap;
import akka.management.javadsl.AkkaManagement;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;

/**
 * Akka configuration for the three kinds of node, layered over each module's reference.conf.
 * All nodes share the actor-system name {@code parallax}. With seed discovery the coordinator is
 * the cluster's seed and the workers join it; with Kubernetes discovery Akka Management's
 * cluster bootstrap finds the coordinator's pods through the Kubernetes API instead (the
 * coordinator's pods are the only contact points, so the coordinator forms the cluster and
 * the workers join it), and serves the {@code /ready} and {@code /alive} probes.
 */
final class NodeConfig {

    static final String SYSTEM_NAME = "parallax";

    private NodeConfig() {}

    /** The coordinator: a cluster node at host:port that is its own seed. */
    static Config coordinator(String host, int port) {
        return cluster(host, port, List.of(address(host, port)), 1, COORDINATOR_ROLE);
    }

    /** A worker joining the cluster whose seed (the coordinator) is at joinHost:joinPort. */
    static Config worker(String host, int port, String joinHost, int joinPort, int computeThreads) {
        return cluster(host, port, List.of(address(joinHost, joinPort)), computeThreads, WORKER_ROLE);
    }

    /**
     * The coordinator's configuration from its settings: its own seed, or Kubernetes bootstrap.
     * The settings' {@code akka { }} block, if any, goes on top.
     */
    static Config coordinator(NodeSettings settings, String host, int port) {
        return fromSettings(settings, host, coordinator(host, port));
    }

    /**
     * A worker's configuration from its settings: joining the seed at join (HOST:PORT), or
     * Kubernetes bootstrap (join unused). The settings' {@code akka { }} block goes on top.
     */
    static Config worker(NodeSettings settings, String host, int port, String join, int computeThreads) {
        int colon = join.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("--join must be HOST:PORT, got '" + join + "'");
        }
        int joinPort;
        try {
            joinPort = Integer.parseInt(join.substring(colon + 1));
        } catch (NumberFormatException e) {
            joinPort = -1;
        }
        if (joinPort < 1 || joinPort > 65535) {
            throw new IllegalArgumentException("--join must be HOST:PORT with a port 1-65535, got '" + join + "'");
        }
        return fromSettings(settings, host, worker(host, port, join.substring(0, colon), joinPort, computeThreads));
    }

    private static Config fromSettings(NodeSettings settings, String host, Config base) {
        Config config = base;
        if (settings.discovery() == NodeSettings.Discovery.KUBERNETES) {
            config = kubernetes(host, settings.managementPort(), settings.serviceName()).withFallback(config);
        }
        return settings.akka().withFallback(config).resolve();
    }

    /**
     * Kubernetes bootstrap: no static seeds (bootstrap refuses to run with them); contact points
     * are the pods labelled app=serviceName, probed on their port named "management".
     */
    static Config kubernetes(String host, int managementPort, String serviceName) {
        return ConfigFactory.parseString(
                "akka.cluster.seed-nodes = []\n"
                        + "akka.management.http.hostname = \"" + host + "\"\n"
                        + "akka.management.http.port = " + managementPort + "\n"
                        + "akka.management.cluster.bootstrap.contact-point-discovery {\n"
                        + "  discovery-method = kubernetes-api\n"
                        + "  service-name = \"" + serviceName + "\"\n"
                        + "  port-name = management\n"
                        // one coordinator: it forms the cluster alone; workers never do (not contact points)
                        + "  required-contact-point-nr = 1\n"
                        + "}\n"
                        + "akka.discovery.kubernetes-api.pod-label-selector = \"app=%s\"\n");
    }

    /**
     * Starts Akka Management (HTTP: bootstrap, /ready, /alive) and cluster bootstrap when the
     * settings ask for Kubernetes discovery; with seed discovery the cluster config already
     * names the seed and this does nothing.
     */
    static void startDiscovery(ActorSystem<?> system, NodeSettings settings) {
        if (settings.discovery() == NodeSettings.Discovery.KUBERNETES) {
            AkkaManagement.get(system).start();
            try {
                ClusterBootstrap.get(system).start();
            } catch (Exception e) { // Scala code: checked exceptions (NoSuchFileException) too
                // outside a pod the discovery finds no service-account files: say so, not just the path
                throw new IllegalStateException("Kubernetes discovery could not start (is this a pod with the "
                        + "service account of deploy/k8s/rbac.yaml?): " + e, e);
            }
        }
    }

    /**
     * Fails with a one-line message if {@code host:port} cannot be listened on (another node or
     * process holds it). Checked before Akka or gRPC start, because Akka reports a failed bind
     * only as an ERROR log with a stack trace and an exception from deep inside its remoting.
     * Port 0 (any free port) is not checked.
     *
     * @param what the port's name for the message, e.g. "cluster port (--port)"
     */
    static void requireFreePort(String host, int port, String what) {
        if (port == 0) {
            return;
        }
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(host, port));
        } catch (IOException e) {
            String hint = String.valueOf(e.getMessage()).contains("assign requested address")
                    ? host + " is not an address of this machine (--host)"
                    : "another node or process holds it: stop it or choose another port";
            throw new IllegalStateException("cannot listen on " + host + ":" + port + ", the " + what + ": "
                    + e.getMessage() + " (" + hint + ")", e);
        }
    }

    /**
     * Starts a node's actor system. A port taken between {@link #requireFreePort}'s check and
     * Akka's bind (another node started at the same moment) fails with the same one-line message,
     * not Akka's exception from deep inside its remoting.
     */
    static <T> ActorSystem<T> createSystem(Behavior<T> guardian, Config config, String host,
                                           int port) {
        try {
            return ActorSystem.create(guardian, SYSTEM_NAME, config);
        } catch (RuntimeException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof java.net.BindException bind) {
                    throw new IllegalStateException("cannot listen on " + host + ":" + port + ", the cluster port "
                            + "(--port): " + bindReason(bind) + " (another node or process took it as this one "
                            + "started: stop it or choose another port)", e);
                }
            }
            throw e;
        }
    }

    /** "Address already in use", without the "[/127.0.0.1:2551] " Akka puts before it. */
    static String bindReason(java.net.BindException e) {
        String m = String.valueOf(e.getMessage());
        return m.startsWith("[") && m.indexOf("] ") > 0 ? m.substring(m.indexOf("] ") + 2) : m;
    }

    /** The cluster role of the coordinator's node: workers watch for it leaving. */
    static final String COORDINATOR_ROLE = "coordinator";
    static final String WORKER_ROLE = "worker";

    static String address(String host, int port) {
        return "akka://" + SYSTEM_NAME + "@" + host + ":" + port;
    }

    /**
     * Fails with a one-line message naming {@code option} unless {@code port} is 0 (any free
     * port, when {@code anyAllowed}) or 1–65535.
     */
    static void requirePort(int port, String option, boolean anyAllowed) {
        if (port < (anyAllowed ? 0 : 1) || port > 65535) {
            throw new IllegalArgumentException(option + " must be a port " + (anyAllowed ? "0" : "1") + "-65535"
                    + (anyAllowed ? " (0: any free one)" : "") + ", got " + port);
        }
    }

    /** Fails with a one-line message naming {@code option} unless {@code d} is at least a second. */
    static void requirePositive(java.time.Duration d, String option) {
        if (d.compareTo(java.time.Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException(option + " must be at least 1 second, got " + d.toSeconds() + " s");
        }
    }

    private static Config cluster(String host, int port, List<String> seeds, int computeThreads, String role) {
        StringBuilder seedList = new StringBuilder();
        for (String s : seeds) {
            seedList.append(seedList.length() == 0 ? "" : ", ").append('"').append(s).append('"');
        }
        return ConfigFactory.parseString(
                "akka.actor.provider = cluster\n"
                        + "akka.remote.artery.canonical.hostname = \"" + host + "\"\n"
                        + "akka.remote.artery.canonical.port = " + port + "\n"
                        + "akka.cluster.seed-nodes = [" + seedList + "]\n"
                        + "akka.cluster.roles = [\"" + role + "\"]\n"
                        // a node of another version is refused when it joins, not trained with
                        + "akka.cluster.configuration-compatibility-check.checkers.parallax-version = \""
                        + VersionCompatChecker.class.getName() + "\"\n"
                        + VersionCompatChecker.KEY + " = \"" + ParallaxVersion.get() + "\"\n"
                        + "parallax.compute-dispatcher.thread-pool-executor.fixed-pool-size = " + computeThreads + "\n")
                .withFallback(ConfigFactory.load());
    }
}
