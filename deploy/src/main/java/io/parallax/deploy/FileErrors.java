package io.parallax.deploy;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Locale;

/**
 * The JDK's file exceptions as sentences: most carry only the path, their kind saying the rest
 * ({@code trainer: /tmp/m.st} told a user nothing about a parent that is a file, not a folder).
 */
public final class FileErrors {

    private FileErrors() {}

    /** What went wrong with the file {@code e} names, in words. */
    public static String describe(FileSystemException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file: " + e.getFile() + (e.getReason() != null ? " (" + e.getReason() + ")" : "");
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied: " + e.getFile();
        }
        if (e instanceof FileAlreadyExistsException) {
            // from creating a folder (--metrics-dir) where a file is
            return e.getFile() + " exists and is not a folder";
        }
        if (e instanceof NotDirectoryException) {
            // a path through a file: writing a/b where a is a file
            return e.getFile() + " is not a folder";
        }
        if (e.getReason() == null) {
            return e.getFile() + ": " + e.getClass().getSimpleName().replace("Exception", "")
                    .replaceAll("([a-z])([A-Z])", "$1 $2").toLowerCase(Locale.ROOT);
        }
        return e.getMessage();
    }
}
