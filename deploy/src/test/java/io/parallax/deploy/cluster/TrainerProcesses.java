package io.parallax.deploy.cluster;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts real {@code trainer} processes (coordinator, workers) on 127.0.0.1 with this test's
 * class path, each logging to a file, and stops every one of them on {@link #close()}.
 */
final class TrainerProcesses implements AutoCloseable {

    private final Path dir;
    private final List<Process> started = new ArrayList<>();

    TrainerProcesses(Path dir) {
        this.dir = dir;
    }

    /** A TCP port free on 127.0.0.1 right now. */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Starts {@code trainer args...}; its stdout and stderr go to {@code <name>.log}. */
    Process start(String name, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.add("-Xmx1g");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("-Dparallax.home=" + Path.of("..").toAbsolutePath().normalize());
        command.add("io.parallax.deploy.TrainerCli");
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile()).start();
        started.add(p);
        return p;
    }

    String log(String name) throws IOException {
        Path f = dir.resolve(name + ".log");
        return Files.exists(f) ? Files.readString(f) : "";
    }

    /** Waits for {@code p} to exit; fails the test with the log when it does not in time. */
    int await(Process p, String name, Duration timeout) throws Exception {
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError(name + " did not finish within " + timeout + "; its log:\n" + log(name));
        }
        return p.exitValue();
    }

    /** Polls until {@code name}'s log contains {@code text}. */
    void awaitLog(String name, String text, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!log(name).contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(name + " never logged '" + text + "'; its log:\n" + log(name));
            }
            Thread.sleep(100);
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (Process p : started) {
            p.destroy();
        }
        for (Process p : started) {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
