package io.parallax.coordinator.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.List;
import java.util.stream.Stream;
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
