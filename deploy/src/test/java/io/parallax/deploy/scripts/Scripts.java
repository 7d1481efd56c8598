package io.parallax.deploy.scripts;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the deploy/*.sh scripts as a user would, and reads what they leave in the run folder. */
final class Scripts {

    /** The repository root (the tests run in deploy/). */
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    /** What a script printed and how it exited. */
    record Result(int exitCode, String output) {
        @Override
        public String toString() {
            return "exit " + exitCode + ":\n" + output;
        }
    }

    private Scripts() {}

    /** Runs deploy/SCRIPT ARGS with extra environment variables; output is stdout and stderr. */
    static Result run(Map<String, String> env, Duration timeout, String script, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(ROOT.resolve("deploy").resolve(script).toString());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Path out = Files.createTempFile("script", ".out");
        pb.redirectOutput(out.toFile());
        Process p = pb.start();
        try {
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(script + " did not finish in " + timeout + ":\n" + Files.readString(out));
            }
            return new Result(p.exitValue(), Files.readString(out));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /**
     * A launcher that runs the trainer CLI on this test's class path, so the test does not wait
     * for the distribution to be built (the scripts take it from PARALLAX_TRAINER).
     */
    static Path trainerOnTestClassPath(Path dir) throws IOException {
        Path launcher = dir.resolve("trainer");
        String java = ProcessHandle.current().info().command().orElse("java");
        Files.writeString(launcher, "#!/bin/sh\nexec '" + java + "' -Xmx512m -Dparallax.home='" + ROOT + "' -cp '"
                + System.getProperty("java.class.path") + "' io.parallax.deploy.TrainerCli \"$@\"\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        return launcher;
    }

    /** The pid recorded in a pid file ("HOST PID START"). */
    static long pid(Path pidFile) throws IOException {
        return Long.parseLong(Files.readString(pidFile).trim().split("\\s+")[1]);
    }

    /**
     * Whether the process runs. A zombie (exited, waiting for its parent to collect it) does
     * not: the nodes are orphans whose new parent is this machine's init, which reaps them
     * when it gets to it.
     */
    static boolean alive(long pid) throws IOException {
        if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        }
    }

    /** The process's state letter and command line, for a failure message. */
    static String describe(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            return stat.substring(0, Math.min(stat.length(), 120)) + " cmdline="
                    + Files.readString(Path.of("/proc", String.valueOf(pid), "cmdline")).replace('\0', ' ');
        } catch (IOException e) {
            return "gone (" + e + ")";
        }
    }

    /** P such that P and P + 1 are both free on the loopback address right now. */
    static int freePortPair() throws IOException {
        for (int tries = 0; tries < 50; tries++) {
            try (ServerSocket first = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                int p = first.getLocalPort();
                if (p < 65535) {
                    try (ServerSocket second = new ServerSocket(p + 1, 1, InetAddress.getLoopbackAddress())) {
                        return p;
                    } catch (IOException taken) {
                        // try another
                    }
                }
            }
        }
        throw new IOException("no two consecutive free ports found");
    }

    /** A TCP port free on the loopback address right now. */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
