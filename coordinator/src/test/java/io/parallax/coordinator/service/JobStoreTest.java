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
}
