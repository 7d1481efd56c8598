package io.parallax.deploy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValueType;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A node's settings from the configuration file ({@code deploy/parallax.conf} documents every
 * key), with environment overrides. Precedence, highest first: command-line flag (the command
 * applies it with {@link #or}), environment variable ({@link #ENVIRONMENT}), the file given with
 * {@code --config}, the built-in defaults (a copy of {@code deploy/parallax.conf} inside the jar).
 *
 * <p>The environment wins over the file even when the file is a copy that dropped its
 * {@code ${?PARALLAX_…}} lines: the variables are applied as a layer of their own above it.
 */
public final class NodeSettings {

    /** The defaults: {@code deploy/parallax.conf}, copied into the jar by the build. */
    static final String DEFAULTS_RESOURCE = "io/parallax/deploy/parallax.conf";

    /** Each setting (path under {@code parallax}) and the environment variable that overrides it. */
    public static final Map<String, String> ENVIRONMENT = environment(
            "host", "PARALLAX_HOST",
            "data-roots", "PARALLAX_DATA_ROOTS",
            "run-dir", "PARALLAX_RUN_DIR",
            "coordinator.port", "PARALLAX_COORDINATOR_PORT",
            "coordinator.grpc-port", "PARALLAX_GRPC_PORT",
            "coordinator.grpc-bind", "PARALLAX_GRPC_BIND",
            "coordinator.state-dir", "PARALLAX_STATE_DIR",
            "coordinator.step-timeout", "PARALLAX_STEP_TIMEOUT",
            "coordinator.worker-wait", "PARALLAX_WORKER_WAIT",
            "coordinator.queue-size", "PARALLAX_QUEUE_SIZE",
            "coordinator.checkpoint-every", "PARALLAX_CHECKPOINT_EVERY",
            "worker.join", "PARALLAX_JOIN",
            "worker.port", "PARALLAX_WORKER_PORT",
            "worker.compute-threads", "PARALLAX_WORKER_THREADS",
            "worker.plane-deadline", "PARALLAX_PLANE_DEADLINE",
            "discovery.method", "PARALLAX_DISCOVERY",
            "discovery.management-port", "PARALLAX_MANAGEMENT_PORT",
            "discovery.service-name", "PARALLAX_SERVICE_NAME");

    /** How a node finds the cluster. */
    public enum Discovery {
        /** The coordinator is its own seed; workers join {@code worker.join}. */
        SEED,
        /** Akka Management cluster bootstrap over the Kubernetes API. */
        KUBERNETES
    }

    private final Config config;

    private NodeSettings(Config config) {
        this.config = config;
    }

    /**
     * Loads the settings: {@code configFile} (null: none) over the defaults, under this process's
     * environment variables.
     *
     * @throws IllegalArgumentException if the file is missing, does not parse, or a value has
     *                                  the wrong type (the message names the key)
     */
    public static NodeSettings load(Path configFile) {
        return load(configFile, System.getenv());
    }

    /** {@link #load(Path)} with the given environment instead of the process's (for tests). */
    static NodeSettings load(Path configFile, Map<String, String> env) {
        try {
            Config defaults = ConfigFactory.parseResources(NodeSettings.class.getClassLoader(), DEFAULTS_RESOURCE,
                    ConfigParseOptions.defaults().setAllowMissing(false));
            Config file = ConfigFactory.empty();
            if (configFile != null) {
                if (!Files.isRegularFile(configFile)) {
                    throw new IllegalArgumentException("configuration file " + configFile + " does not exist");
                }
                file = ConfigFactory.parseFile(configFile.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
                List<String> unknown = unknownSettings(file);
                if (!unknown.isEmpty()) {
                    // a misspelt key would otherwise leave its setting at the default, silently
                    throw new IllegalArgumentException("configuration file " + configFile + ": unknown setting"
                            + (unknown.size() > 1 ? "s " : " ") + String.join(", ", unknown) + "; the settings are "
                            + ENVIRONMENT.keySet().stream().map(k -> "parallax." + k).toList());
                }
            }
            Config fromEnv = ConfigFactory.parseMap(environmentLayer(env), "environment variables");
            // the files' own ${?PARALLAX_...} lines resolve against the real environment; the layer
            // above them gives the same variables (or a test's) the last word
            Config resolved = fromEnv.withFallback(file).withFallback(defaults).resolve();
            NodeSettings settings = new NodeSettings(resolved);
            settings.validate();
            return settings;
        } catch (ConfigException e) {
            throw new IllegalArgumentException("configuration: " + e.getMessage(), e);
        }
    }

    /** The keys under {@code parallax} in {@code file} that name no setting, each with the likeliest one meant. */
    private static List<String> unknownSettings(Config file) {
        List<String> unknown = new ArrayList<>();
        if (file.root().get("parallax") instanceof ConfigObject parallax) {
            collectUnknown(parallax, "", unknown);
        }
        return unknown;
    }

    private static void collectUnknown(ConfigObject object, String prefix, List<String> unknown) {
        object.forEach((key, value) -> {
            String path = prefix + key;
            boolean section = ENVIRONMENT.keySet().stream().anyMatch(k -> k.startsWith(path + "."));
            if (value instanceof ConfigObject inner && section) {
                collectUnknown(inner, path + ".", unknown);
            } else if (!ENVIRONMENT.containsKey(path)) {
                String meant = ENVIRONMENT.keySet().stream()
                        .min(java.util.Comparator.comparingInt(k -> editDistance(k, path)))
                        .filter(k -> editDistance(k, path) <= 3).orElse(null);
                unknown.add("parallax." + path + (meant == null ? "" : " (parallax." + meant + "?)"));
            }
        });
    }

    /** Levenshtein distance: how many single-character edits turn {@code a} into {@code b}. */
    private static int editDistance(String a, String b) {
        int[] row = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            row[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int above = row[j];
                int substitution = diagonal + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                row[j] = Math.min(Math.min(row[j] + 1, row[j - 1] + 1), substitution);
                diagonal = above;
            }
        }
        return row[b.length()];
    }

    private static Map<String, Object> environmentLayer(Map<String, String> env) {
        Map<String, Object> layer = new LinkedHashMap<>();
        ENVIRONMENT.forEach((key, variable) -> {
            String value = env.get(variable);
            if (value != null && !value.isBlank()) {
                layer.put("parallax." + key, value.trim());
            }
        });
        return layer;
    }

    /** Reads every value once, so a bad one fails at start with its key named, not mid-job. */
    private void validate() {
        host();
        dataRoots();
        runDir();
        coordinatorPort();
        grpcPort();
        grpcBind();
        stateDir();
        stepTimeout();
        workerWait();
        queueSize();
        checkpointEvery();
        join();
        workerPort();
        computeThreads();
        planeDeadline();
        discovery();
        managementPort();
        serviceName();
    }

    /** The flag's value if one was given on the command line, else the setting's. */
    public static <T> T or(T flag, T setting) {
        return flag != null ? flag : setting;
    }

    /**
     * These settings with {@code parallax.<key>} set to a command-line flag's value; a null
     * value (flag not given) leaves them as they are.
     *
     * @throws IllegalArgumentException if the key is unknown or the value invalid for it
     */
    public NodeSettings with(String key, Object value) {
        if (value == null) {
            return this;
        }
        if (!ENVIRONMENT.containsKey(key)) {
            throw new IllegalArgumentException("no setting parallax." + key);
        }
        Object plain = value instanceof Path ? value.toString() : value;
        NodeSettings settings = new NodeSettings(ConfigFactory.parseMap(Map.of("parallax." + key, plain), "flags")
                .withFallback(config));
        settings.validate();
        return settings;
    }

    /** Address to bind and advertise. */
    public String host() {
        return string("host");
    }

    /** Folders job data may come from; empty = the command's defaults. */
    public List<Path> dataRoots() {
        String key = "parallax.data-roots";
        List<String> roots = config.getValue(key).valueType() == ConfigValueType.STRING
                ? Arrays.stream(config.getString(key).split(File.pathSeparator)).filter(s -> !s.isBlank()).toList()
                : config.getStringList(key);
        return roots.stream().map(Path::of).toList();
    }

    /** start-cluster.sh's folder for pid and log files. */
    public Path runDir() {
        return Path.of(string("run-dir"));
    }

    /** The coordinator's Akka cluster port. */
    public int coordinatorPort() {
        return port("coordinator.port", false);
    }

    /** The coordinator's gRPC port (job service, health, tensor plane). */
    public int grpcPort() {
        return port("coordinator.grpc-port", false);
    }

    /** The address the coordinator's gRPC server listens on, if it is not {@link #host()}. */
    public java.util.Optional<String> grpcBind() {
        String bind = config.getString("parallax.coordinator.grpc-bind").trim();
        return bind.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(bind);
    }

    /** The coordinator's job folder. */
    public Path stateDir() {
        return Path.of(string("coordinator.state-dir"));
    }

    /** Time after which a step is redone without the late workers. */
    public Duration stepTimeout() {
        return positive("coordinator.step-timeout");
    }

    /** Time a job waits for its workers. */
    public Duration workerWait() {
        return positive("coordinator.worker-wait");
    }

    /** Jobs that may wait in the coordinator's queue. */
    public int queueSize() {
        int size = config.getInt("parallax.coordinator.queue-size");
        if (size < 1) {
            throw new IllegalArgumentException("parallax.coordinator.queue-size (PARALLAX_QUEUE_SIZE) must be >= 1, got "
                    + size);
        }
        return size;
    }

    /** Least time between two checkpoints of the coordinator's running job; zero: after every epoch only. */
    public Duration checkpointEvery() {
        return duration("coordinator.checkpoint-every", Duration.ZERO);
    }

    /** The coordinator's cluster address, HOST:PORT, a worker joins. */
    public String join() {
        String join = string("worker.join");
        int colon = join.lastIndexOf(':');
        if (colon <= 0 || !join.substring(colon + 1).matches("\\d{1,5}")) {
            throw new IllegalArgumentException("parallax.worker.join must be HOST:PORT, got '" + join + "'");
        }
        return join;
    }

    /** A worker's Akka port (0 = any free one). */
    public int workerPort() {
        return port("worker.port", true);
    }

    /** A worker's compute threads. */
    public int computeThreads() {
        int threads = config.getInt("parallax.worker.compute-threads");
        if (threads < 1) {
            throw new IllegalArgumentException("parallax.worker.compute-threads must be >= 1, got " + threads);
        }
        return threads;
    }

    /** Deadline of one tensor-plane call. */
    public Duration planeDeadline() {
        return positive("worker.plane-deadline");
    }

    /** How a node finds the cluster. */
    public Discovery discovery() {
        String method = string("discovery.method");
        try {
            return Discovery.valueOf(method.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("parallax.discovery.method must be 'seed' or 'kubernetes', got '"
                    + method + "'", e);
        }
    }

    /** Akka Management's HTTP port (kubernetes discovery). */
    public int managementPort() {
        return port("discovery.management-port", false);
    }

    /** The label value (app=...) of the pods that are contact points (kubernetes discovery). */
    public String serviceName() {
        return string("discovery.service-name");
    }

    /** Settings passed to Akka unchanged: the file's {@code akka { }} block, if any. */
    public Config akka() {
        return config.hasPath("akka") ? config.getConfig("akka").atKey("akka") : ConfigFactory.empty();
    }

    private String string(String key) {
        String value = config.getString("parallax." + key).trim();
        if (value.isEmpty()) {
            throw new IllegalArgumentException("parallax." + key + " must not be empty");
        }
        return value;
    }

    private int port(String key, boolean zeroAllowed) {
        int port = config.getInt("parallax." + key);
        if (port < (zeroAllowed ? 0 : 1) || port > 65535) {
            throw new IllegalArgumentException("parallax." + key + " must be a port " + (zeroAllowed ? "0" : "1")
                    + "-65535, got " + port);
        }
        return port;
    }

    /**
     * A duration of at least a second. A number without a unit is refused: HOCON would read it as
     * milliseconds, and {@code PARALLAX_STEP_TIMEOUT=90} means 90 seconds to anyone who writes it.
     */
    private Duration positive(String key) {
        return duration(key, Duration.ofSeconds(1));
    }

    /** A duration setting with its unit, at least {@code least}. */
    private Duration duration(String key, Duration least) {
        String named = "parallax." + key + " (" + ENVIRONMENT.get(key) + ")";
        com.typesafe.config.ConfigValue raw = config.getValue("parallax." + key);
        String text = String.valueOf(raw.unwrapped()).trim();
        if (raw.valueType() == ConfigValueType.NUMBER || text.matches("[0-9]+(\\.[0-9]*)?")) {
            throw new IllegalArgumentException(named + " needs a unit, e.g. " + text + "s; got " + text
                    + " (a number alone would be milliseconds)");
        }
        Duration d = config.getDuration("parallax." + key);
        if (d.compareTo(least) < 0) {
            throw new IllegalArgumentException(named + " must be at least " + (least.isZero() ? "0"
                    : least.toSeconds() + " second" + (least.toSeconds() == 1 ? "" : "s")) + ", got " + text);
        }
        return d;
    }

    private static Map<String, String> environment(String... pairs) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            map.put(pairs[i], pairs[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(map);
    }

    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        for (String key : ENVIRONMENT.keySet()) {
            parts.add(key + "=" + config.getValue("parallax." + key).unwrapped());
        }
        return "NodeSettings" + parts;
    }
}
