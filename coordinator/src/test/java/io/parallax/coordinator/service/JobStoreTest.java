package io.parallax.coordinator.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
            id = store.newId();
            Files.createDirectories(store.jobDir(id));
            Files.writeString(store.jobDir(id).resolve("metrics.jsonl"), "{}\n");
            // what a kill -9 in the middle of ReplacingFile.write leaves
            Files.write(store.jobDir(id).resolve(".model.safetensors.3f9a0c1d2e4b5a6c.tmp"), new byte[4096]);
            Files.write(store.jobDir(id).resolve(".checkpoint.bin.7.tmp"), new byte[10]);
        }
        try (JobStore store = JobStore.open(state)) {
            try (java.util.stream.Stream<java.nio.file.Path> files = Files.list(store.jobDir(id))) {
                assertEquals(java.util.List.of("metrics.jsonl"),
                        files.map(f -> f.getFileName().toString()).toList());
            }
        }
    }

    @Test
    void aJobWhoseRecordCannotBeReadIsListedAsFailedWithItsModel() throws IOException {
        String id;
        try (JobStore store = JobStore.open(state)) {
            id = store.newId();
            Files.createDirectories(store.jobDir(id));
            Files.writeString(store.jobDir(id).resolve(JobStore.RECORD), "{\"id\": \"" + id + "\", \"sta");
            io.parallax.engine.io.ModelFile.save(tinyModel(), store.modelFile(id));
        }
        try (JobStore store = JobStore.open(state)) {
            io.parallax.proto.v1.Job job = store.loaded().stream().filter(j -> j.getId().equals(id)).findFirst()
                    .orElseThrow(() -> new AssertionError("the job vanished"));
            assertEquals(io.parallax.proto.v1.JobState.FAILED, job.getState());
            org.junit.jupiter.api.Assertions.assertTrue(job.getReason().startsWith("its record "
                    + store.jobDir(id).resolve(JobStore.RECORD) + " cannot be read ("), job.getReason());
            org.junit.jupiter.api.Assertions.assertTrue(job.getModelAvailable());
        }
    }

    private static io.parallax.engine.model.Sequential tinyModel() {
        return new io.parallax.engine.model.Sequential(2, java.util.List.of(new io.parallax.engine.layer.Linear(2, 2)),
                io.parallax.engine.backend.Backends.cpu(), 1);
    }

    @Test
    void aStoredModelCutShortIsNotOfferedAfterARestart() throws IOException {
        String id;
        try (JobStore store = JobStore.open(state)) {
            id = store.newId();
            Files.createDirectories(store.jobDir(id));
            io.parallax.engine.io.ModelFile.save(tinyModel(), store.modelFile(id));
            store.save(io.parallax.proto.v1.Job.newBuilder().setId(id).setName("done")
                    .setState(io.parallax.proto.v1.JobState.SUCCEEDED).setModelAvailable(true).build());
            long size = Files.size(store.modelFile(id));
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(store.modelFile(id),
                    java.nio.file.StandardOpenOption.WRITE)) {
                ch.truncate(size - 4);
            }
        }
        try (JobStore store = JobStore.open(state)) {
            io.parallax.proto.v1.Job job = store.loaded().stream().filter(j -> j.getId().equals(id)).findFirst()
                    .orElseThrow();
            org.junit.jupiter.api.Assertions.assertFalse(job.getModelAvailable(), job.toString());
        }
    }
}
