package io.parallax.deploy;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Files a command writes when its work is done ({@code --export}, {@code --metrics-out}), checked
 * before the work starts: a path that cannot be written should fail in a second, not after hours
 * of training whose model then exists nowhere else.
 */
final class OutputFiles {

    private OutputFiles() {}

    /**
     * Creates {@code file}'s folder if it is missing and checks that {@code file} can be written
     * there; does nothing for null.
     *
     * @param option the command-line option that named it, for the message
     * @throws IllegalArgumentException naming the option, the path and why
     */
    static void requireWritable(Path file, String option) {
        if (file == null) {
            return;
        }
        Path absolute = file.toAbsolutePath();
        if (Files.isDirectory(absolute)) {
            throw new IllegalArgumentException(option + " " + file + " is a folder; name a file");
        }
        Path folder = absolute.getParent();
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new IllegalArgumentException(option + " " + file + ": cannot create its folder " + folder + " ("
                    + reason(e) + ")", e);
        }
        if (!Files.isWritable(folder) || (Files.exists(absolute) && !Files.isWritable(absolute))) {
            throw new IllegalArgumentException(option + " " + file + ": not writable (permission denied)");
        }
    }

    private static String reason(IOException e) {
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }
}
