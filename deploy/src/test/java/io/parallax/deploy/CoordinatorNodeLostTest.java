package io.parallax.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.coordinator.service.JobStore;
import io.parallax.deploy.client.ExitCodes;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobState;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A coordinator whose cluster node is downed under it (here by hand, from a member; in the field
 * by the split-brain resolver after a long pause) stops with its own exit code and a line saying
 * so, and leaves the jobs still queued on disk for its next start, instead of staying up without
 * a cluster and failing them one by one.
 */
class CoordinatorNodeLostTest {

    private static final Path DIGITS = Path.of("..", "examples", "data", "digits.csv.gz").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @Test
    void aCoordinatorWhoseNodeIsDownedStopsAndKeepsItsQueuedJobs() throws Exception {
        int port = freePort();
        int grpcPort = freePort();
        Path state = dir.resolve("state");
        StringWriter err = new StringWriter();
        CompletableFuture<Integer> coordinator = CompletableFuture.supplyAsync(() -> {
            CommandLine cl = TrainerCli.commandLine();
            cl.setErr(new PrintWriter(err, true));
            // no workers: the first job waits in the queue for one, the second behind it
            return cl.execute("coordinator", "--host", "127.0.0.1", "--port", String.valueOf(port), "--grpc-port",
                    String.valueOf(grpcPort), "--state-dir", state.toString(), "--data-root",
                    DIGITS.getParent().toString(), "--worker-wait", "120");
        });
        Path job = dir.resolve("digits.json");
        Files.writeString(job, """
                {"model": {"layers": [{"linear": {"out_features": 10}}]}, "loss": "cross_entropy",
                 "optimizer": {"name": "sgd", "lr": 0.1},
                 "data": {"train": {"csv": {"path": "%s", "label_column": "digit"}}},
                 "batch_size": 32, "epochs": 1}
                """.formatted(DIGITS.toString().replace("\\", "\\\\")));
        String server = "127.0.0.1:" + grpcPort;
        submitWhenUp(server, job, coordinator);
        assertEquals(0, TrainerCli.commandLine().execute("submit", "--server", server, "--job", job.toString()));

        ClusterMemberForTests.downCoordinator("127.0.0.1", port, coordinator::isDone);
        int code = coordinator.get(60, TimeUnit.SECONDS);
        assertEquals(ExitCodes.NODE_LOST, code, err.toString());
        assertTrue(err.toString().contains("trainer: coordinator: its cluster node was downed"), err.toString());
        assertTrue(!err.toString().contains("\tat "), err.toString());
        try (JobStore store = JobStore.open(state)) {
            // read on a fresh start: without a live worker neither job started, and both still wait
            List<Job> jobs = store.loaded().stream().sorted(Comparator.comparing(Job::getId)).toList();
            assertEquals(2, jobs.size(), jobs.toString());
            assertEquals(JobState.QUEUED, jobs.get(0).getState(), jobs.get(0).toString());
            assertEquals(JobState.QUEUED, jobs.get(1).getState(), jobs.get(1).toString());
        }
    }

    /** Submits the first job once the coordinator's job service answers. */
    private static void submitWhenUp(String server, Path job, CompletableFuture<Integer> coordinator) throws Exception {
        long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            CommandLine cl = TrainerCli.commandLine();
            StringWriter err = new StringWriter();
            cl.setErr(new PrintWriter(err, true));
            cl.setOut(new PrintWriter(new StringWriter()));
            if (cl.execute("submit", "--server", server, "--job", job.toString()) == 0) {
                return;
            }
            assertTrue(!coordinator.isDone(), () -> "the coordinator ended with " + coordinator.join());
            assertTrue(System.nanoTime() < until, () -> "the coordinator's job service did not answer within 60 s: "
                    + err);
            Thread.sleep(200);
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }
}
