package io.parallax.engine.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file so that a crash leaves either the old file or the new one, never half of one: to
 * a temporary file in the same folder, forced to disk, then renamed over the target.
 *
 * <p>Two kinds of target are not replaced by the rename. A symbolic link is followed: the file it
 * points to is replaced and the link stays. A target that exists and is not a regular file —
 * {@code /dev/null}, {@code /dev/stdout}, a named pipe — is written in place, as a shell
 * redirection would write it: renaming over it would put a plain file where the device was.
 */
public final class ReplacingFile {

    /** Writes the content. */
    @FunctionalInterface
    public interface Content {
        void writeTo(FileChannel out) throws IOException;
    }

    private ReplacingFile() {}

    /**
     * Writes {@code content} to {@code path}, creating its folder if needed.
     *
     * @throws IOException naming {@code path} (never the temporary file) when it cannot be written
     */
    public static void write(Path path, Content content) throws IOException {
        Path target = target(path);
        if (isSpecial(target)) {
            // no temporary file, no rename, no fsync (which a device may refuse)
            try (FileChannel out = FileChannel.open(target, StandardOpenOption.WRITE)) {
                content.writeTo(out);
            }
            return;
        }
        Path dir = target.getParent();
        Files.createDirectories(dir);
        // not Files.createTempFile: its 0600 permissions would pass to the saved file; this one
        // gets the usual permissions from the umask
        Path tmp = beside(target, ".tmp");
        FileChannel out;
        try {
            out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new FileSystemException(path.toString(), null, "cannot create a file in " + dir + " ("
                    + reason(e) + ")");
        }
        try {
            try (out) {
                content.writeTo(out);
                out.force(true);
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
        }
        syncDirectory(dir);
    }

    /**
     * The path {@link #write} writes for {@code path}: absolute, with symbolic links followed.
     *
     * @throws FileSystemException when that is a folder
     */
    public static Path target(Path path) throws IOException {
        Path target = path.toAbsolutePath();
        if (Files.exists(target)) {
            target = target.toRealPath();
        }
        if (Files.isDirectory(target)) {
            throw new FileSystemException(path.toString(), null, "is a folder; name a file");
        }
        return target;
    }

    /**
     * Checks, without leaving anything behind, that {@link #write} can write {@code path}: its
     * folder is created if missing and a file is created in it and deleted (a permission bit says
     * too little: {@code /proc} looks writable to root), or a device is opened for writing.
     *
     * @throws IOException naming {@code path} and why
     */
    public static void requireWritable(Path path) throws IOException {
        Path target = target(path);
        if (isSpecial(target)) {
            try (FileChannel ignored = FileChannel.open(target, StandardOpenOption.WRITE)) {
                return;
            } catch (IOException e) {
                throw new FileSystemException(path.toString(), null, "cannot be written (" + reason(e) + ")");
            }
        }
        Path dir = target.getParent();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new FileSystemException(path.toString(), null, "cannot create its folder " + dir + " ("
                    + reason(e) + ")");
        }
        if (Files.exists(target) && !Files.isWritable(target)) {
            throw new FileSystemException(path.toString(), null, "not writable (permission denied)");
        }
        Path probe = beside(target, ".probe");
        try {
            Files.deleteIfExists(Files.createFile(probe));
        } catch (IOException e) {
            throw new FileSystemException(path.toString(), null, "cannot create a file in " + dir + " ("
                    + reason(e) + ")");
        }
    }

    /** A hidden name beside {@code target} that no other writer picks. */
    private static Path beside(Path target, String suffix) {
        return target.resolveSibling("." + target.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + suffix);
    }

    /** Exists and is neither a regular file nor a folder: a device, a pipe, a socket. */
    private static boolean isSpecial(Path target) {
        return Files.exists(target) && !Files.isRegularFile(target) && !Files.isDirectory(target);
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
