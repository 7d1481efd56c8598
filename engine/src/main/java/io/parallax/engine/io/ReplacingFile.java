package io.parallax.engine.io;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Writes a file so that a crash leaves either the old file or the new one, never half of one: to
 * a temporary file in the same folder, forced to disk, then renamed over the target.
 *
 * <p>Only a plain file is replaced that way, and only one the user named. A symbolic link is
 * followed by hand, link by link: the file it points to is replaced (or created, for a dangling
 * link) and the link stays. Nothing under {@code /dev}, {@code /proc} or {@code /sys} is ever
 * renamed over or resolved further, because there a link leads to whatever a file descriptor
 * happens to hold ({@code /dev/stdout} is {@code /proc/self/fd/1}, which may be the very file a
 * shell appends to, or, with stdout closed, a file the JVM itself opened): {@code /dev/stdout}
 * and {@code /dev/stderr} are written to this process's own standard output and error, and any
 * other existing file there, or anything that is not a regular file (a device, a named pipe), is
 * written in place, as a shell redirection would write it.
 */
public final class ReplacingFile {

    /** Writes the content. */
    @FunctionalInterface
    public interface Content {
        void writeTo(FileChannel out) throws IOException;
    }

    private enum Kind {
        /** A regular file, or none yet: temporary file, then rename. */
        REPLACE,
        /** An existing file that is not regular, or one in the system's trees: opened and written. */
        IN_PLACE,
        /** This process's standard output or error. */
        STDOUT,
        STDERR
    }

    private record Target(Path path, Kind kind) {}

    private static final int MAX_LINKS = 40;

    private ReplacingFile() {}

    /**
     * Writes {@code content} to {@code path}, creating its folder if needed.
     *
     * @throws IOException naming {@code path} (never the temporary file) when it cannot be written
     */
    public static void write(Path path, Content content) throws IOException {
        Target target = resolve(path);
        switch (target.kind()) {
            case STDOUT, STDERR -> {
                // the process's own descriptor, not a reopening of /proc/self/fd/N (which would
                // start at offset 0 and clobber a file the shell appends to); never closed
                System.out.flush();
                System.err.flush();
                FileChannel out = new FileOutputStream(target.kind() == Kind.STDOUT ? FileDescriptor.out
                        : FileDescriptor.err).getChannel();
                try {
                    content.writeTo(out);
                } catch (IOException e) {
                    throw naming(path, e);
                }
                return;
            }
            case IN_PLACE -> {
                // no temporary file, no rename, no fsync (which a device may refuse)
                try (FileChannel out = FileChannel.open(target.path(), StandardOpenOption.WRITE)) {
                    content.writeTo(out);
                } catch (IOException e) {
                    throw naming(path, e);
                }
                return;
            }
            default -> replace(path, target.path(), content);
        }
    }

    /** Temporary files being written, for {@link #deleteUnfinishedOnExit}. */
    private static final Set<Path> IN_FLIGHT = ConcurrentHashMap.newKeySet();
    private static final AtomicBoolean DELETE_ON_EXIT = new AtomicBoolean();

    /**
     * For a short-lived process whose writes are worthless half done (a model download): a JVM
     * stopped in the middle (SIGTERM, Ctrl-C) removes the temporary file on its way out, which
     * would otherwise stay, hidden, up to the model's size, under a name no later run reuses (a
     * SIGKILL still leaves it). Not for a server: its own shutdown waits for a write in flight
     * (a job's model) to finish, and a hook running beside it would delete the file under it.
     */
    public static void deleteUnfinishedOnExit() {
        if (DELETE_ON_EXIT.compareAndSet(false, true)) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                for (Path tmp : IN_FLIGHT) {
                    try {
                        Files.deleteIfExists(tmp);
                    } catch (IOException e) {
                        // on the way out: nothing more to do about it
                    }
                }
            }, "parallax-temporary-files"));
        }
    }

    private static void replace(Path named, Path target, Content content) throws IOException {
        Path dir = target.getParent();
        Files.createDirectories(dir);
        // not Files.createTempFile: its 0600 permissions would pass to the saved file; this one
        // gets the usual permissions from the umask
        Path tmp = beside(target, ".tmp");
        IN_FLIGHT.add(tmp);
        FileChannel out;
        try {
            out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (IOException e) {
            IN_FLIGHT.remove(tmp);
            throw new FileSystemException(named.toString(), null, "cannot create a file in " + dir + " ("
                    + reason(e) + ")");
        }
        try {
            try (out) {
                content.writeTo(out);
                out.force(true);
            } catch (IOException e) {
                throw naming(named, e);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                // a file system without atomic rename: the temporary file is complete, so the
                // window is only that of a plain replace
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
            IN_FLIGHT.remove(tmp);
        }
        syncDirectory(dir);
    }

    /**
     * The file {@link #write} writes for {@code path}: absolute, links followed as described in
     * the class comment, the folder's own links resolved, so that two names of one file compare
     * equal ({@code ./a} and {@code a}, a link and its target, a path through a linked folder).
     * {@code /dev/stdout} and {@code /dev/stderr} come back as such.
     *
     * @throws FileSystemException when that is a folder, or the links loop
     */
    public static Path target(Path path) throws IOException {
        return resolve(path).path();
    }

    private static Target resolve(Path path) throws IOException {
        Path current = path.toAbsolutePath().normalize();
        for (int links = 0; ; links++) {
            Target system = systemTarget(current);
            if (system != null) {
                return system;
            }
            if (!Files.isSymbolicLink(current)) {
                break;
            }
            if (links >= MAX_LINKS) {
                throw new FileSystemException(path.toString(), null, "too many levels of symbolic links");
            }
            current = current.resolveSibling(Files.readSymbolicLink(current)).normalize();
        }
        // the name is no link now; its folder may be reached through links
        Path parent = current.getParent();
        if (parent != null && Files.isDirectory(parent)) {
            current = parent.toRealPath().resolve(current.getFileName());
            Target system = systemTarget(current);
            if (system != null) {
                return system;
            }
        }
        if (Files.isDirectory(current)) {
            throw new FileSystemException(path.toString(), null, "is a folder; name a file");
        }
        if (Files.exists(current) && !Files.isRegularFile(current)) {
            return new Target(current, Kind.IN_PLACE);
        }
        return new Target(current, Kind.REPLACE);
    }

    /** How a path in /dev, /proc or /sys is written, or null for one elsewhere. */
    private static Target systemTarget(Path p) throws IOException {
        String s = p.toString();
        if (s.equals("/dev/stdout") || s.equals("/dev/fd/1") || s.equals("/proc/self/fd/1")) {
            return new Target(Path.of("/dev/stdout"), Kind.STDOUT);
        }
        if (s.equals("/dev/stderr") || s.equals("/dev/fd/2") || s.equals("/proc/self/fd/2")) {
            return new Target(Path.of("/dev/stderr"), Kind.STDERR);
        }
        if (!(s.startsWith("/dev/") || s.startsWith("/proc/") || s.startsWith("/sys/"))) {
            return null;
        }
        if (Files.isDirectory(p)) {
            throw new FileSystemException(s, null, "is a folder; name a file");
        }
        // an existing one is written in place; a new name is left to the rename, whose folder
        // check then says what is wrong (no file can be made in /proc)
        return new Target(p, Files.exists(p) ? Kind.IN_PLACE : Kind.REPLACE);
    }

    /** Whether {@code path} names this process's standard output ({@code /dev/stdout} or a link to it). */
    public static boolean isStandardOutput(Path path) throws IOException {
        return resolve(path).kind() == Kind.STDOUT;
    }

    /**
     * A writer for a file written as it goes (metrics, line by line) rather than replaced at the
     * end: on {@code /dev/stdout} this process's own standard output, which closing only flushes
     * (reopening {@code /proc/self/fd/1} would start at offset 0 of a file the shell appends to);
     * anything else is created or truncated.
     */
    public static java.io.BufferedWriter streamWriter(Path path) throws IOException {
        if (!isStandardOutput(path)) {
            return Files.newBufferedWriter(path, java.nio.charset.StandardCharsets.UTF_8);
        }
        return new java.io.BufferedWriter(new java.io.OutputStreamWriter(standardOutput(),
                java.nio.charset.StandardCharsets.UTF_8));
    }

    /**
     * This process's own standard output as a buffered stream whose {@code close} only flushes:
     * what {@link #streamWriter} writes to for {@code /dev/stdout}.
     */
    public static java.io.OutputStream standardOutput() {
        return new java.io.BufferedOutputStream(new FileOutputStream(FileDescriptor.out)) {
            @Override
            public void close() throws IOException {
                flush();
            }
        };
    }

    /**
     * Checks, without leaving anything behind, that {@link #write} can write {@code path}: for a
     * file to be replaced, its folder is created if missing and a file is created in it and
     * deleted (a permission bit says too little: {@code /proc} looks writable to root); a device
     * or pipe must be writable (it is not opened: a pipe without a reader would block).
     *
     * @throws IOException naming {@code path} and why
     */
    public static void requireWritable(Path path) throws IOException {
        Target target = resolve(path);
        if (target.kind() == Kind.STDOUT || target.kind() == Kind.STDERR) {
            return;
        }
        if (target.kind() == Kind.IN_PLACE) {
            if (!Files.isWritable(target.path())) {
                throw new FileSystemException(path.toString(), null, "not writable (permission denied)");
            }
            return;
        }
        Path dir = target.path().getParent();
        try {
            Files.createDirectories(dir);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            // a file where a folder on the way must be
            throw new FileSystemException(path.toString(), null, "cannot create its folder " + dir + ": "
                    + e.getFile() + " exists and is not a folder");
        } catch (IOException e) {
            throw new FileSystemException(path.toString(), null, "cannot create its folder " + dir + " ("
                    + reason(e) + ")");
        }
        if (Files.exists(target.path()) && !Files.isWritable(target.path())) {
            throw new FileSystemException(path.toString(), null, "not writable (permission denied)");
        }
        Path probe = beside(target.path(), ".probe");
        try {
            Files.deleteIfExists(Files.createFile(probe));
        } catch (IOException e) {
            throw new FileSystemException(path.toString(), null, "cannot create a file in " + dir + " ("
                    + reason(e) + ")");
        }
    }

    /** The temporary files {@link #beside} names: ".NAME.HEX.tmp". */
    private static final java.util.regex.Pattern TEMPORARY = java.util.regex.Pattern.compile("\\..+\\.[0-9a-f]{1,16}\\.tmp");

    /**
     * Deletes the temporary files that writes into {@code dir} left when their process died (a
     * crash or {@code kill -9} in the middle of a model or checkpoint): for a folder only one
     * process writes, at its start. Returns how many bytes were freed.
     */
    public static long deleteLeftovers(Path dir) throws IOException {
        return deleteTemporaries(dir, "*", name -> TEMPORARY.matcher(name).matches());
    }

    /**
     * Deletes the temporary files that writes of {@code target} left beside it when their process
     * died (a {@code kill -9} in the middle of a checkpoint), and no other file's: for a file only
     * one process writes, at its start. Returns how many bytes were freed.
     */
    public static long deleteLeftoversOf(Path target) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            return 0;
        }
        String prefix = "." + target.getFileName() + ".";
        return deleteTemporaries(dir, prefix + "*.tmp", name -> name.substring(prefix.length(),
                name.length() - ".tmp".length()).matches("[0-9a-f]{1,16}"));
    }

    /** Deletes the plain files of {@code dir} matching {@code glob} whose names {@code ours} accepts; the bytes freed. */
    private static long deleteTemporaries(Path dir, String glob, java.util.function.Predicate<String> ours)
            throws IOException {
        long freed = 0;
        try (java.nio.file.DirectoryStream<Path> files = Files.newDirectoryStream(dir, glob)) {
            for (Path f : files) {
                if (ours.test(f.getFileName().toString()) && Files.isRegularFile(f,
                        java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    long size = Files.size(f);
                    Files.deleteIfExists(f);
                    freed += size;
                }
            }
        }
        return freed;
    }

    /** A hidden name beside {@code target} that no other writer picks. */
    private static Path beside(Path target, String suffix) {
        return target.resolveSibling("." + target.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + suffix);
    }

    /**
     * {@code e} as an exception naming {@code path}: a full disk's "No space left on device" names
     * none. One that names a file already is returned as it is.
     */
    public static FileSystemException naming(Path path, IOException e) {
        if (e instanceof FileSystemException fse && fse.getFile() != null) {
            return fse;
        }
        FileSystemException withPath = new FileSystemException(path.toString(), null,
                e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName());
        withPath.initCause(e);
        return withPath;
    }

    private static String reason(IOException e) {
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file or folder";
        }
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // the file's own data is already forced; only the rename's durability is at stake
        }
    }
}
