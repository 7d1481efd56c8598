package io.parallax.worker.job;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The directories a job may read from. Every path a job names (data files, image folders,
 * {@code init_from}) must lie under one of them, so a client can never make a node read anything
 * else ({@code /etc/passwd}, another user's files).
 *
 * <p>Containment is decided on real paths: {@code ..} is normalised away and symbolic links are
 * followed (for a path that does not exist yet, those of its longest existing ancestor), so
 * neither {@code root/../etc} nor a link inside a root that points outside it gets through.
 *
 * <p>A relative path in a job is resolved against the first root under which it exists, or
 * against the first root when it exists under none (then loading reports it missing).
 *
 * <p>A one-process run ({@code trainer local}) uses {@link #anywhere}: its user is its only client
 * and may name any file, so the roots only say where relative paths are looked up.
 */
public final class DataRoots {

    private final List<Path> roots;
    /** Whether a path outside the roots is allowed too. */
    private final boolean anywhere;
    /** What the user refused a path outside the roots (that path's folder) can do about it. */
    private final java.util.function.Function<Path, String> advice;

    private DataRoots(List<Path> roots, boolean anywhere, java.util.function.Function<Path, String> advice) {
        this.roots = List.copyOf(roots);
        this.anywhere = anywhere;
        this.advice = advice;
    }

    /** A node's advice: where its roots come from. */
    private static String nodeAdvice(Path folder) {
        return "nodes read data only under their data roots: start them with --data-root " + folder
                + ", or add it to PARALLAX_DATA_ROOTS";
    }

    /** Roots from directories (need not exist yet); at least one. */
    public static DataRoots of(List<Path> directories) {
        if (directories.isEmpty()) {
            throw new IllegalArgumentException("at least one data root is needed");
        }
        return new DataRoots(realPaths(directories), false, DataRoots::nodeAdvice);
    }

    /**
     * Roots that only say where relative paths are looked up, in this order: any path is
     * allowed. For a run whose user is its only client.
     */
    public static DataRoots anywhere(List<Path> searchOrder) {
        if (searchOrder.isEmpty()) {
            throw new IllegalArgumentException("at least one folder to look up relative paths in is needed");
        }
        return new DataRoots(realPaths(searchOrder), true, DataRoots::nodeAdvice);
    }

    private static List<Path> realPaths(List<Path> directories) {
        List<Path> real = new ArrayList<>();
        for (Path d : directories) {
            real.add(realPath(d));
        }
        return real;
    }

    public static DataRoots of(Path... directories) {
        return of(List.of(directories));
    }

    /**
     * These roots, refusing a path outside them with {@code advice} (given the folder of that
     * path) rather than a node's: where the roots come from for this command.
     */
    public DataRoots advising(java.util.function.Function<Path, String> advice) {
        return new DataRoots(roots, anywhere, advice);
    }

    /**
     * What to do about {@code path}, refused as outside the roots: " (…)". The folder named is
     * where the path really is: for a link, its target's, which is what lies outside.
     */
    String adviceFor(Path path) {
        Path real = realPath(path);
        return " (" + advice.apply(real.getParent() != null ? real.getParent() : real) + ")";
    }

    /** The roots as real absolute paths. */
    public List<Path> roots() {
        return roots;
    }

    /**
     * The absolute, normalised form of a path from a job: itself if absolute, else resolved as
     * the class documentation says.
     *
     * @throws InvalidPathException if the string is not a path on this system
     */
    public Path resolve(String path) {
        Path p = Path.of(path);
        if (p.isAbsolute()) {
            return p.normalize();
        }
        for (Path root : roots) {
            Path candidate = root.resolve(p).normalize();
            if (Files.exists(candidate)) {
                return candidate;
            }
        }
        return roots.get(0).resolve(p).normalize();
    }

    /** Whether {@code path} (absolute), followed through its links, lies under a root (always, for {@link #anywhere}). */
    public boolean contains(Path path) {
        if (anywhere) {
            return true;
        }
        Path real = realPath(path);
        for (Path root : roots) {
            if (real.startsWith(root)) {
                return true;
            }
        }
        return false;
    }

    /** The real path of {@code p}, or of its longest existing ancestor with the rest appended. */
    private static Path realPath(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return abs;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(abs)).normalize();
        } catch (IOException e) {
            // unreadable ancestor: judge the normalised path; reading it will fail anyway
            return abs;
        }
    }

    /**
     * For a file the job names that is missing: where a relative path was looked for (empty for
     * an absolute one), to follow "no such file: …".
     */
    public String lookedUp(String pathInJob) {
        return Path.of(pathInJob).isAbsolute() ? ""
                : " (a relative path is looked up under " + (roots.size() == 1 ? roots.get(0) : "each of " + roots + " in turn")
                + ")";
    }

    @Override
    public String toString() {
        return roots.toString();
    }
}
