package io.parallax.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplacingFileTest {

    @TempDir
    Path dir;

    private static ReplacingFile.Content text(String s) {
        return out -> out.write(ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8)));
    }

    private List<Path> leftovers() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().startsWith(".")).toList();
        }
    }

    @Test
    void replacesAFileAndLeavesNothingBeside() throws IOException {
        Path file = Files.writeString(dir.resolve("model.safetensors"), "old");
        ReplacingFile.write(file, text("new"));
        assertEquals("new", Files.readString(file));
        assertEquals(List.of(), leftovers());
    }

    /** Writes {@code args[0]} slowly, forever: a writer to stop in the middle. */
    public static final class SlowWriter {
        public static void main(String[] args) throws IOException {
            if (args.length > 1 && args[1].equals("delete-unfinished")) {
                ReplacingFile.deleteUnfinishedOnExit();
            }
            ReplacingFile.write(Path.of(args[0]), out -> {
                System.out.println("writing");
                System.out.flush();
                for (int i = 0; ; i++) {
                    out.write(ByteBuffer.wrap(new byte[4096]));
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        throw new IOException(e);
                    }
                }
            });
        }
    }

    /** Runs {@link SlowWriter} on {@code target}, stops it with SIGTERM once it writes; returns what is left beside. */
    private List<Path> stopAWriterMidway(Path target, String... options) throws Exception {
        Path javaBinary = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new java.util.ArrayList<>(List.of(javaBinary.toString(), "-cp",
                System.getProperty("java.class.path"), SlowWriter.class.getName(), target.toString()));
        command.addAll(List.of(options));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            java.io.BufferedReader lines = new java.io.BufferedReader(
                    new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("writing", lines.readLine());
            assertEquals(1, leftovers().size(), "the temporary file, while it is written");
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
        } finally {
            p.destroyForcibly();
        }
        assertTrue(!Files.exists(target));
        return leftovers();
    }

    @Test
    void aWriteThatFailsNamesTheFileAndLeavesTheOldOneAndNothingBeside() throws IOException {
        Path file = Files.writeString(dir.resolve("model.safetensors"), "old");
        // what a full disk's write says: no file named
        FileSystemException e = assertThrows(FileSystemException.class, () -> ReplacingFile.write(file, out -> {
            out.write(ByteBuffer.wrap("half".getBytes(StandardCharsets.UTF_8)));
            throw new IOException("No space left on device");
        }));
        assertEquals(file + ": No space left on device", e.getMessage());
        assertEquals("old", Files.readString(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void aDownloadStoppedBySigtermLeavesNoTemporaryFile() throws Exception {
        assertEquals(List.of(), stopAWriterMidway(dir.resolve("model.safetensors"), "delete-unfinished"));
    }

    @Test
    void withoutAskingTheTemporaryFileIsNotDeletedUnderAWriterAShutdownWaitsFor() throws Exception {
        // a server's shutdown lets a model save finish: no hook may delete the file beside it
        assertEquals(1, stopAWriterMidway(dir.resolve("model.safetensors")).size());
    }

    @Test
    void aLinkIsFollowedAndStays() throws IOException {
        Path target = Files.writeString(dir.resolve("target.bin"), "old");
        Path link = Files.createSymbolicLink(dir.resolve("link.bin"), target.getFileName());
        ReplacingFile.write(link, text("new"));
        assertTrue(Files.isSymbolicLink(link), "the link was replaced by a file");
        assertEquals("new", Files.readString(target));
        assertEquals(List.of(), leftovers());
    }

    /** Through a link, so that a regression replaces the link in the temporary folder, not the device. */
    @Test
    void aDeviceIsWrittenInPlaceNotReplaced() throws IOException {
        Path devNull = Path.of("/dev/null");
        assumeTrue(Files.exists(devNull) && !Files.isRegularFile(devNull), "no /dev/null device here");
        Path link = Files.createSymbolicLink(dir.resolve("null"), devNull);
        ReplacingFile.requireWritable(link);
        ReplacingFile.write(link, text("discarded"));
        assertTrue(Files.isSymbolicLink(link), "the link to the device was replaced by a file");
        assertFalse(Files.isRegularFile(devNull));
        assertEquals(List.of(), leftovers());
    }

    @Test
    void aFolderIsRefusedByName() throws IOException {
        FileSystemException e = assertThrows(FileSystemException.class, () -> ReplacingFile.write(dir, text("x")));
        assertEquals(dir.toString(), e.getFile());
        assertEquals("is a folder; name a file", e.getReason());
    }

    /** /proc lets root pass every permission check, but no file can be made there. */
    @Test
    void aFolderThatHoldsNoFilesIsFoundBeforeAnythingIsWritten() {
        assumeTrue(Files.isDirectory(Path.of("/proc/self")), "no /proc here");
        FileSystemException e = assertThrows(FileSystemException.class,
                () -> ReplacingFile.requireWritable(Path.of("/proc/parallax-model.safetensors")));
        assertTrue(e.getReason().startsWith("cannot create a file in /proc"), e.getReason());
        e = assertThrows(FileSystemException.class,
                () -> ReplacingFile.write(Path.of("/proc/parallax-model.safetensors"), text("x")));
        assertEquals("/proc/parallax-model.safetensors", e.getFile(), "the message names the temporary file");
    }

    @Test
    void requireWritableCreatesTheFolderAndLeavesNoProbe() throws IOException {
        Path file = dir.resolve("a/b/model.safetensors");
        ReplacingFile.requireWritable(file);
        assertTrue(Files.isDirectory(file.getParent()));
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertArrayEquals(new Object[0], files.toArray());
        }
    }

    @Test
    void aDanglingLinkGetsItsTargetCreatedAndStays() throws IOException {
        Path link = Files.createSymbolicLink(dir.resolve("link.bin"), Path.of("sub", "target.bin"));
        ReplacingFile.write(link, text("new"));
        assertTrue(Files.isSymbolicLink(link), "the dangling link was replaced by a file");
        assertEquals("new", Files.readString(dir.resolve("sub/target.bin")));
    }

    @Test
    void twoNamesOfOneFileHaveOneTarget() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("sub"));
        Path linkedFolder = Files.createSymbolicLink(dir.resolve("linked"), sub);
        Path direct = sub.resolve("m.out");
        assertEquals(ReplacingFile.target(direct), ReplacingFile.target(dir.resolve("sub/../sub/./m.out")));
        assertEquals(ReplacingFile.target(direct), ReplacingFile.target(linkedFolder.resolve("m.out")));
        Path link = Files.createSymbolicLink(dir.resolve("mlink.out"), direct);
        assertEquals(ReplacingFile.target(direct), ReplacingFile.target(link), "a dangling link and its target");
    }

    /**
     * /dev/stdout is /proc/self/fd/1, a link to whatever descriptor 1 holds: with stdout sent to a
     * file, following it would rename over that file (and with stdout closed, over a file the JVM
     * itself has open). It is never followed.
     */
    @Test
    void standardOutputIsNeverResolvedToWhatItHolds() throws IOException {
        assumeTrue(Files.exists(Path.of("/proc/self/fd")), "no /proc here");
        assertEquals(Path.of("/dev/stdout"), ReplacingFile.target(Path.of("/dev/stdout")));
        assertEquals(Path.of("/dev/stdout"), ReplacingFile.target(Path.of("/proc/self/fd/1")));
        Path link = Files.createSymbolicLink(dir.resolve("out"), Path.of("/proc/self/fd/1"));
        assertEquals(Path.of("/dev/stdout"), ReplacingFile.target(link));
        ReplacingFile.requireWritable(link);
        // another descriptor of this process: written in place, never renamed over
        assertEquals(Path.of("/proc/self/fd/0"), ReplacingFile.target(Path.of("/proc/self/fd/0")));
    }

    @Test
    void theLeftoversOfOneFilesWritesAreDeletedAndNoOtherFilesOnes() throws IOException {
        Path checkpoint = dir.resolve("run.ckpt");
        Files.writeString(checkpoint, "the last whole one");
        Path crashed = Files.writeString(dir.resolve(".run.ckpt.96e26a8f946d5c40.tmp"), "half a checkpoint");
        Path others = Files.writeString(dir.resolve(".model.safetensors.1f.tmp"), "another file's");
        Path lookalike = Files.writeString(dir.resolve(".run.ckpt.not-hex.tmp"), "not one of ours");
        assertEquals("half a checkpoint".length(), ReplacingFile.deleteLeftoversOf(checkpoint));
        assertFalse(Files.exists(crashed));
        assertTrue(Files.exists(others) && Files.exists(lookalike) && Files.exists(checkpoint));
        assertEquals(0, ReplacingFile.deleteLeftoversOf(dir.resolve("no-folder/x.ckpt")));
    }
}
