package io.parallax.deploy;

import io.parallax.coordinator.service.HeldFileLock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Holds an output folder ({@code demo --out}, {@code local --metrics-dir}) for one run: two runs
 * writing metrics.jsonl, TensorBoard events, the chart and the model into the same folder at once
 * interleave their lines and replace each other's files, so the second is refused before it
 * trains. The lock is the operating system's on {@value #LOCK_FILE} in the folder: a run that dies
 * leaves nothing held.
 */
final class OutputFolderLock implements AutoCloseable {

    /** The lock file's name in the folder. */
    static final String LOCK_FILE = ".trainer.lock";

    /** Null when the folder's file system has no locks. */
    private final HeldFileLock lock;

    private OutputFolderLock(HeldFileLock lock) {
        this.lock = lock;
    }

    /**
     * Creates {@code dir} if missing and locks it.
     *
     * @param option the option that named it, for the message
     * @throws IllegalArgumentException when another run holds it
     * @throws IOException when the folder or its lock file cannot be made
     */
    static OutputFolderLock acquire(Path dir, String option) throws IOException {
        Files.createDirectories(dir);
        HeldFileLock lock;
        try {
            lock = HeldFileLock.tryLock(dir.resolve(LOCK_FILE));
        } catch (IOException e) {
            // a file system without locks (some NFS mounts): the run goes on unguarded rather
            // than not at all; the folder's own writes report what else is wrong with it
            return new OutputFolderLock(null);
        }
        if (lock == null) {
            throw new IllegalArgumentException(option + " " + dir + " is in use by another run of trainer: wait for "
                    + "it to end, or give this run another folder");
        }
        return new OutputFolderLock(lock);
    }

    @Override
    public void close() throws IOException {
        if (lock != null) {
            lock.close();
        }
    }
}
