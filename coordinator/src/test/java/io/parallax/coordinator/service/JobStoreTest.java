package io.parallax.coordinator.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.engine.backend.Backends;
import io.parallax.engine.io.ModelFile;
import io.parallax.engine.layer.Linear;
import io.parallax.engine.model.Sequential;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobState;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobStoreTest {

    @TempDir
    Path state;

    @Test
    void aDeletedJobsIdIsNotGivenAgainAfterARestart() throws IOException {
        try (JobStore store = JobStore.open(state)) {
            assertEquals("job-000001", store.newId());
            String newest = store.newId();
            Files.writeString(store.jobDir(newest).resolve("metrics.jsonl"), "{}\n");
            store.delete(newest);
            assertFalse(Files.exists(store.jobDir(newest)));
        }
        // no folder says job-000002 existed: the store remembers it
        try (JobStore store = JobStore.open(state)) {
            assertEquals("job-000003", store.newId());
        }
    }

    @Test
    void temporaryFilesACrashLeftInAJobFolderAreDeletedAtTheNextStart() throws IOException {
        String id;
        try (JobStore store = JobStore.open(state)) {
            id = newJobFolder(store);
            Files.writeString(store.jobDir(id).resolve("metrics.jsonl"), "{}\n");
            // what a kill -9 in the middle of ReplacingFile.write leaves
            Files.write(store.jobDir(id).resolve(".model.safetensors.3f9a0c1d2e4b5a6c.tmp"), new byte[4096]);
            Files.write(store.jobDir(id).resolve(".checkpoint.bin.7.tmp"), new byte[10]);
        }
        try (JobStore store = JobStore.open(state); Stream<Path> files = Files.list(store.jobDir(id))) {
            assertEquals(List.of("metrics.jsonl"), files.map(f -> f.getFileName().toString()).toList());
        }
    }

    @Test
    void aJobWhoseRecordCannotBeReadIsListedAsFailedWithItsModel() throws IOException {
        String id;
        try (JobStore store = JobStore.open(state)) {
            id = newJobFolder(store);
            Files.writeString(store.jobDir(id).resolve(JobStore.RECORD), "{\"id\": \"" + id + "\", \"sta");
            ModelFile.save(tinyModel(), store.modelFile(id));
        }
        try (JobStore store = JobStore.open(state)) {
            Job job = loaded(store, id);
            assertEquals(JobState.FAILED, job.getState());
            assertTrue(job.getReason().startsWith("its record " + store.jobDir(id).resolve(JobStore.RECORD)
                    + " cannot be read ("), job.getReason());
            assertTrue(job.getModelAvailable());
        }
    }

    /** A cancelled job offers a model and a checkpoint; each deleted by hand is no longer offered, the other still is. */
    @Test
    void aCancelledJobsModelAndCheckpointAreEachCheckedAtTheStart() throws IOException {
        String modelGone;
        String checkpointGone;
        try (JobStore store = JobStore.open(state)) {
            modelGone = newJobFolder(store);
            checkpointGone = newJobFolder(store);
            for (String id : List.of(modelGone, checkpointGone)) {
                store.save(Job.newBuilder().setId(id).setName(id).setState(JobState.CANCELLED).setModelAvailable(true)
                        .setCheckpointStep(40).setFinishedAtMs(1).build());
                ModelFile.save(tinyModel(), store.modelFile(id));
                ModelFile.save(tinyModel(), store.checkpointFile(id)); // present is what counts here
            }
            Files.delete(store.modelFile(modelGone));
            Files.delete(store.checkpointFile(checkpointGone));
        }
        try (JobStore store = JobStore.open(state)) {
            Job a = loaded(store, modelGone);
            assertFalse(a.getModelAvailable(), a.toString());
            assertEquals(40, a.getCheckpointStep(), a.toString());
            Job b = loaded(store, checkpointGone);
            assertTrue(b.getModelAvailable(), b.toString());
            assertEquals(0, b.getCheckpointStep(), b.toString());
        }
    }

    /** Job {@code id} as a store opened on the state directory lists it: FAILED, its record named with {@code why}. */
    private Job listedUnreadable(String id, String why) throws IOException {
        try (JobStore store = JobStore.open(state)) {
            Job job = loaded(store, id);
            assertEquals(JobState.FAILED, job.getState());
            assertTrue(job.getReason().startsWith("its record " + store.jobDir(id).resolve(JobStore.RECORD)
                    + " cannot be read (" + why), job.getReason());
            return job;
        }
    }

    @Test
    void aRecordThatIsNotUtf8IsListedAsUnreadableAndTheStoreOpens() throws IOException {
        String id;
        try (JobStore store = JobStore.open(state)) {
            id = newJobFolder(store);
            store.save(Job.newBuilder().setId(id).setName("damaged").setState(JobState.SUCCEEDED).build());
            byte[] record = Files.readAllBytes(store.jobDir(id).resolve(JobStore.RECORD));
            record[record.length / 2] = (byte) 0xff;
            Files.write(store.jobDir(id).resolve(JobStore.RECORD), record);
            ModelFile.save(tinyModel(), store.modelFile(id));
        }
        Job job = listedUnreadable(id, "it is not UTF-8 text");
        assertEquals("(record unreadable)", job.getName());
        assertTrue(job.getModelAvailable());
    }

    @Test
    void aRecordThatIsAFolderIsListedAsUnreadableAndTheStoreOpens() throws IOException {
        String id;
        try (JobStore store = JobStore.open(state)) {
            id = newJobFolder(store);
            Files.createDirectories(store.jobDir(id).resolve(JobStore.RECORD));
        }
        assertFalse(listedUnreadable(id, "it is a folder, not a file").getModelAvailable());
    }

    @Test
    void aRecordThatIsAFifoIsListedAsUnreadableWithoutWaitingForAWriter() throws Exception {
        String id;
        try (JobStore store = JobStore.open(state)) {
            id = newJobFolder(store);
        }
        Path fifo = state.resolve("jobs").resolve(id).resolve(JobStore.RECORD);
        Process mkfifo;
        try {
            mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("no mkfifo here: " + e.getMessage());
            return;
        }
        Assumptions.assumeTrue(mkfifo.waitFor() == 0 && Files.exists(fifo), "mkfifo could not make a FIFO");
        // reading a FIFO nobody writes to blocks for good: the open itself must not get that far
        Job job = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            try (JobStore store = JobStore.open(state)) {
                return loaded(store, id);
            }
        });
        assertEquals(JobState.FAILED, job.getState());
        assertTrue(job.getReason().contains("cannot be read (it is not a regular file)"), job.getReason());
    }

    @Test
    void aLastIdFileThatIsNotTextDoesNotStopTheStoreFromOpening() throws IOException {
        try (JobStore store = JobStore.open(state)) {
            newJobFolder(store);
        }
        Files.write(state.resolve("last-id"), new byte[] {(byte) 0xff, (byte) 0xfe});
        try (JobStore store = JobStore.open(state)) {
            assertEquals("job-000002", store.newId());
        }
    }

    @Test
    void aRunningJobsRecordThatCannotBeRewrittenAtTheStartDoesNotStopTheStoreAndIsWrittenLater() throws IOException {
        String id;
        Path blocker;
        try (JobStore store = JobStore.open(state)) {
            id = newJobFolder(store);
            store.save(Job.newBuilder().setId(id).setName("crashed").setState(JobState.RUNNING).build());
            // what a full disk does to the rewrite at the start: the temporary record cannot be written
            blocker = Files.createDirectories(store.jobDir(id).resolve(JobStore.RECORD + ".tmp").resolve("blocker"));
        }
        Path record = state.resolve("jobs").resolve(id).resolve(JobStore.RECORD);
        try (JobStore store = JobStore.open(state)) {
            Job job = loaded(store, id);
            assertEquals(JobState.FAILED, job.getState());
            assertEquals(JobStore.RESTARTED, job.getReason());
            assertEquals(java.util.Set.of(id), store.unsavedOnOpen());
            assertTrue(Files.readString(record).contains("RUNNING"));

            // room again: the queue writes what the start could not (here at its shutdown)
            Files.delete(blocker);
            Files.delete(blocker.getParent());
            JobQueue queue = JobQueue.start(store, null, io.parallax.worker.job.DataRoots.of(List.of(state)), 5,
                    JobListenerFactory.jsonLines());
            queue.shutdown(Duration.ofSeconds(10));
            assertTrue(Files.readString(record).contains("\"FAILED\""), Files.readString(record));
        }
    }

    @Test
    void aStateDirectoryThatCannotBeUsedIsNamedInTheError() throws IOException {
        Path notAFolder = Files.writeString(state.resolve("file"), "x");
        IOException e = assertThrows(IOException.class, () -> JobStore.open(notAFolder));
        assertTrue(e.getMessage().startsWith("the state directory " + notAFolder + " cannot be used ("), e.getMessage());
    }

    @Test
    void anIdWhoseLastIdCannotBeWrittenLeavesNoTemporaryFile() throws IOException {
        try (JobStore store = JobStore.open(state)) {
            // last-id cannot be replaced (on a full disk its temporary copy cannot be written either)
            Files.createDirectories(state.resolve("last-id").resolve("in-the-way"));
            assertThrows(IOException.class, store::newId);
            assertFalse(Files.exists(state.resolve("last-id.tmp")));
        }
    }

    /** A new job id of {@code store}, with its folder. */
    private static String newJobFolder(JobStore store) throws IOException {
        String id = store.newId();
        Files.createDirectories(store.jobDir(id));
        return id;
    }

    /** The job {@code id} as {@code store} loaded it at its start; the test fails if it is not there. */
    private static Job loaded(JobStore store, String id) {
        return store.loaded().stream().filter(j -> j.getId().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError("the job vanished"));
    }

    private static Sequential tinyModel() {
        return new Sequential(2, List.of(new Linear(2, 2)), Backends.cpu(), 1);
    }

    @Test
    void aStoredModelCutShortIsNotOfferedAfterARestart() throws IOException {
        String id;
        try (JobStore store = JobStore.open(state)) {
            id = newJobFolder(store);
            ModelFile.save(tinyModel(), store.modelFile(id));
            store.save(Job.newBuilder().setId(id).setName("done").setState(JobState.SUCCEEDED).setModelAvailable(true)
                    .build());
            long size = Files.size(store.modelFile(id));
            try (FileChannel ch = FileChannel.open(store.modelFile(id), StandardOpenOption.WRITE)) {
                ch.truncate(size - 4);
            }
        }
        try (JobStore store = JobStore.open(state)) {
            Job job = loaded(store, id);
            assertFalse(job.getModelAvailable(), job.toString());
        }
    }
}
