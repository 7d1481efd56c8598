package io.parallax.deploy.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.data.Dataset;
import io.parallax.engine.io.ModelFile;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.tensor.Tensor;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobId;
import io.parallax.proto.v1.JobServiceGrpc;
import io.parallax.proto.v1.JobState;
import io.parallax.worker.job.DataRoots;
import io.parallax.worker.job.JobFiles;
import io.parallax.worker.job.JobPlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole product as a user meets it, on 127.0.0.1: {@code start-cluster.sh} with two
 * workers, {@code trainer submit --watch} of a job, {@code trainer model} to fetch the trained
 * model, its accuracy re-computed here from the exported weights equal to the one the
 * coordinator reported, and {@code stop-cluster.sh} leaving no process behind.
 */
@Tag("slow")
class EndToEndTest {

    @TempDir
    Path dir;

    private Path runDir;
    private Map<String, String> env;

    @AfterEach
    void stopWhateverIsLeft() throws Exception {
        if (runDir != null && Files.isDirectory(runDir)) {
            Scripts.run(env, Duration.ofMinutes(1), "stop-cluster.sh", "--run-dir", runDir.toString());
        }
    }

    @Test
    void startSubmitWatchFetchTheModelAndStop() throws Exception {
        runDir = dir.resolve("cluster");
        Path trainer = Scripts.trainerOnTestClassPath(dir);
        env = Map.of("PARALLAX_TRAINER", trainer.toString(), "PARALLAX_STATE_DIR", dir.resolve("state").toString());
        int grpc = Scripts.freePort();
        Scripts.Result start = Scripts.run(env, Duration.ofMinutes(5), "start-cluster.sh", "--run-dir",
                runDir.toString(), "--workers", "2", "--port", String.valueOf(Scripts.freePort()), "--grpc-port",
                String.valueOf(grpc), "--timeout", "240");
        assertEquals(0, start.exitCode(), start.toString());
        List<Long> pids = new ArrayList<>();
        try (Stream<Path> files = Files.list(runDir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".pid")).toList()) {
                pids.add(Scripts.pid(f));
            }
        }
        assertEquals(3, pids.size(), "a coordinator and two workers");

        String server = "127.0.0.1:" + grpc;
        Path job = Scripts.ROOT.resolve("examples/breast-cancer.json");
        Scripts.Result submit = run(trainer, "submit", "--job", job.toString(), "--server", server, "--watch");
        assertEquals(0, submit.exitCode(), "submit --watch ends with the job SUCCEEDED: " + submit);
        Matcher id = Pattern.compile("(?m)^(job-\\d+)$").matcher(submit.output());
        assertTrue(id.find(), "submit prints the job id alone on a line: " + submit);
        String jobId = id.group(1);
        assertTrue(submit.output().contains("SUCCEEDED"), submit.toString());

        Path model = dir.resolve("model.safetensors");
        Scripts.Result fetch = run(trainer, "model", jobId, "--out", model.toString(), "--server", server);
        assertEquals(0, fetch.exitCode(), fetch.toString());

        Job record;
        ManagedChannel channel = NettyChannelBuilder.forTarget(server).usePlaintext().build();
        try {
            record = JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .getJob(JobId.newBuilder().setId(jobId).build());
        } finally {
            channel.shutdownNow();
        }
        assertEquals(JobState.SUCCEEDED, record.getState());
        double reported = record.getEpochs(record.getEpochsCount() - 1).getValAccuracy();
        assertTrue(reported > 0.9, "breast cancer should validate above 0.9, got " + reported);

        // the same validation rows the job used (same seed, same split, same normalisation)
        JobPlan plan = JobPlan.load(JobFiles.read(job), DataRoots.of(Scripts.ROOT.resolve("examples")));
        Dataset validation = plan.validation().orElseThrow();
        Sequential trained = ModelFile.load(model, Backends.cpu()).eval();
        Tensor logits = trained.forward(Tensor.of(trained.backend(), validation.features(), validation.rows(),
                validation.width()));
        float[] out = logits.toArray();
        int correct = 0;
        for (int r = 0; r < validation.rows(); r++) {
            correct += (out[r] >= 0 ? 1 : 0) == validation.labels()[r] ? 1 : 0;
        }
        assertEquals(reported, (double) correct / validation.rows(), 1e-9,
                "accuracy recomputed from the exported weights equals the reported one");

        Scripts.Result stop = Scripts.run(env, Duration.ofMinutes(2), "stop-cluster.sh", "--run-dir", runDir.toString());
        assertEquals(0, stop.exitCode(), stop.toString());
        for (long pid : pids) {
            assertFalse(Scripts.alive(pid), "pid " + pid + " still runs after stop-cluster.sh: " + Scripts.describe(pid));
        }
        runDir = null;
    }

    private Scripts.Result run(Path trainer, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(trainer.toString());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        Path out = Files.createTempFile(dir, "cli", ".out");
        pb.redirectOutput(out.toFile());
        Process p = pb.start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError(String.join(" ", args) + " did not finish:\n" + Files.readString(out));
        }
        return new Scripts.Result(p.exitValue(), Files.readString(out));
    }
}
