package io.parallax.deploy;

import io.parallax.engine.io.ReplacingFile;
import java.io.IOException;
import java.nio.file.FileSystemException;
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
     * there (by creating and deleting a file beside it); does nothing for null.
     *
     * @param option the command-line option that named it, for the message
     * @throws IllegalArgumentException naming the option, the path and why
     */
    static void requireWritable(Path file, String option) {
        if (file == null) {
            return;
        }
        if (file.toString().isEmpty()) {
            throw new IllegalArgumentException(option + " needs a file name");
        }
        try {
            ReplacingFile.requireWritable(file);
        } catch (FileSystemException e) {
            throw new IllegalArgumentException(option + " " + e.getFile() + ": " + e.getReason(), e);
        } catch (IOException e) {
            throw new IllegalArgumentException(option + " " + file + ": " + e, e);
        }
    }

    /**
     * When an output goes to standard output, sends everything else this process prints there
     * (epoch lines, notes, "model written") to standard error, so that what a pipe or a file
     * behind {@code > } receives is the model or the metrics alone.
     */
    static void keepStandardOutputFor(Path... outputs) throws IOException {
        for (Path p : outputs) {
            if (p != null && ReplacingFile.isStandardOutput(p)) {
                System.out.flush();
                System.setOut(System.err);
                return;
            }
        }
    }

    /**
     * Fails when {@code output} would overwrite {@code other} (an input, or another output):
     * {@code --export job.json} must not destroy the job file. Either may be null.
     */
    static void requireDifferent(Path output, String option, Path other, String otherName) {
        if (output == null || other == null) {
            return;
        }
        try {
            if (ReplacingFile.target(output).equals(ReplacingFile.target(other))) {
                throw new IllegalArgumentException(option + " " + output + " is the same file as " + otherName
                        + "; name another file");
            }
        } catch (IOException e) {
            // requireWritable reports what is wrong with the path itself
        }
    }
}
