package io.parallax.coordinator.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.parallax.engine.io.ModelFile;
import io.parallax.engine.model.Sequential;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobId;
import io.parallax.worker.job.JobFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that is not ours: Python's grpcio (Debian's python3-grpcio), with stubs compiled from
 * our .proto files by grpc_tools at test time, submits a job over TCP, watches it to the end,
 * lists it and downloads the model; the model loads here and matches the coordinator's record.
 * Skips when grpcio or grpc_tools are not installed.
 */
class PythonClientTest {

    static final Path PROTO_ROOT = Path.of("..", "proto", "src", "main", "proto").toAbsolutePath().normalize();
    static final Path SCRIPT = Path.of("src", "test", "python", "grpc_client.py").toAbsolutePath();

    @TempDir
    Path dir;

    @Test
    void pythonGrpcioSubmitsWatchesAndFetchesTheModel() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "no /usr/bin/python3");
        Path jobFile = dir.resolve("job.json");
        Files.writeString(jobFile, JobFiles.toJson(ServiceFixture.smallJob("from-python", 3, 32)));
        Path model = dir.resolve("model.safetensors");
        try (ServiceFixture fx = new ServiceFixture(dir.resolve("state"), List.of(ServiceFixture.EXAMPLES), 10, true)) {
            Process p = new ProcessBuilder("/usr/bin/python3", SCRIPT.toString(), PROTO_ROOT.toString(),
                    "127.0.0.1:" + fx.server.port(), jobFile.toString(), model.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            assertTrue(p.waitFor(180, TimeUnit.SECONDS), "the Python client did not finish");
            assumeTrue(p.exitValue() != 77, "grpcio or grpc_tools is not installed for /usr/bin/python3");
            assertEquals(0, p.exitValue(), "Python client output: " + out);

            JsonNode result = new ObjectMapper().readTree(out.lines().reduce((a, b) -> b).orElse("{}"));
            assertEquals("SUCCEEDED", result.get("state").asText());
            assertEquals("SUCCEEDED", result.get("watched_final_state").asText());
            assertEquals(3, result.get("epochs_watched").asInt());
            assertTrue(result.get("listed").asBoolean());
            Job record = ServiceFixture.withDeadline(fx.stub())
                    .getJob(JobId.newBuilder().setId(result.get("job_id").asText()).build());
            assertEquals(record.getEpochs(2).getValAccuracy(), result.get("val_accuracy").asDouble(), 1e-12);
            assertEquals(Files.size(fx.queue.modelFile(record.getId())), result.get("model_bytes").asLong());
            Sequential loaded = ModelFile.load(model);
            assertEquals(30 * 16 + 16 + 16 * 2 + 2, loaded.parameterCount());
        }
    }
}
