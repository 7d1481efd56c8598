package io.parallax.deploy.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.parallax.deploy.TrainerCli;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobEvent;
import io.parallax.proto.v1.JobState;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The client commands against a scripted job service over a real gRPC connection on 127.0.0.1. */
class ClientCommandsTest {

    @TempDir
    Path dir;

    private FakeJobService service;

    private record Run(int code, String out, String err) {}

    @BeforeEach
    void start() throws Exception {
        service = new FakeJobService();
    }

    @AfterEach
    void stop() {
        service.close();
    }

    /** Runs {@code trainer ARGS} against the fake service, progress as plain lines. */
    private Run trainer(String... args) {
        CommandLine cl = TrainerCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private Path jobFile() throws Exception {
        Path f = dir.resolve("job.json");
        Files.writeString(f, """
                {"name": "digits", "loss": "cross_entropy", "batch_size": 32, "epochs": 2,
                 "model": {"layers": [{"linear": {"out_features": 10}}]},
                 "optimizer": {"name": "adam"},
                 "data": {"train": {"csv": {"path": "data/digits.csv.gz", "label_column": "digit"}}}}
                """);
        return f;
    }

    private static void assertNoStackTrace(Run r) {
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception"), "no stack trace: " + r.err());
    }

    @Test
    void submitPrintsTheIdAloneAndSendsPathsMadeAbsolute() throws Exception {
        service.nextId = "job-000042";
        Run r = trainer("submit", "--job", jobFile().toString(), "--server", service.address());
        assertEquals(0, r.code(), r.err());
        assertEquals("job-000042" + System.lineSeparator(), r.out());
        assertEquals(1, service.submitted.size());
        assertEquals(dir.resolve("data/digits.csv.gz").toAbsolutePath().toString(),
                service.submitted.get(0).getData().getTrain().getCsv().getPath());
        assertEquals("digits", service.submitted.get(0).getName());
        // the file alone, as a user types it first
        r = trainer("submit", jobFile().toString(), "--server", service.address());
        assertEquals(0, r.code(), r.err());
        assertEquals(2, service.submitted.size());
    }

    /**
     * {@code trainer watch JOB | head}: the reader goes, standard output fails its writes (the JVM
     * ignores SIGPIPE), and the watch stops with 141 instead of following the job to its end.
     */
    @Test
    void aWatchWhoseStandardOutputIsClosedStopsWith141() {
        service.watches.put("job-3", FakeJobService.story("job-3", 2, 10, JobState.SUCCEEDED, ""));
        java.io.PrintStream stdout = System.out;
        java.io.OutputStream closedPipe = new java.io.OutputStream() {
            @Override
            public void write(int b) throws java.io.IOException {
                throw new java.io.IOException("Broken pipe");
            }
        };
        int code;
        try {
            System.setOut(new java.io.PrintStream(closedPipe, true));
            // the launcher's own writer over System.out, not a test's: what a shell's pipe gets
            CommandLine cl = TrainerCli.commandLine();
            cl.setErr(new PrintWriter(new StringWriter()));
            code = cl.execute("watch", "job-3", "--progress", "plain", "--server", service.address());
        } finally {
            System.setOut(stdout);
        }
        assertEquals(ExitCodes.OUTPUT_CLOSED, code);
    }

    @Test
    void submitWatchFollowsTheJobToSuccessWithExitCode0() throws Exception {
        service.watches.put("job-000001", FakeJobService.story("job-000001", 2, 10, JobState.SUCCEEDED, ""));
        Run r = trainer("submit", "--job", jobFile().toString(), "--watch", "--progress", "plain",
                "--server", service.address());
        assertEquals(ExitCodes.OK, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals("job-000001", lines.get(0));
        assertEquals(2, lines.stream().filter(l -> l.matches("epoch \\d/2  train_loss .*")).count(), r.out());
        assertTrue(lines.get(lines.size() - 1).startsWith("job-000001 SUCCEEDED after 2 epoch(s) in 12.5 s"), r.out());
        assertTrue(lines.get(lines.size() - 1).endsWith("val_accuracy 0.7000"), r.out());
    }

    @Test
    void aFailedJobEndsTheWatchWithExitCode3AndItsReason() throws Exception {
        service.watches.put("job-000001", FakeJobService.story("job-000001", 3, 5, JobState.FAILED,
                "training diverged: loss is NaN at step 4"));
        Run r = trainer("submit", "--job", jobFile().toString(), "--watch", "--server", service.address());
        assertEquals(ExitCodes.JOB_FAILED, r.code(), r.err());
        assertTrue(r.out().contains("job-000001 FAILED: training diverged: loss is NaN at step 4"), r.out());
    }

    @Test
    void aCancelledJobEndsTheWatchWithExitCode4() {
        service.watches.put("job-7", FakeJobService.story("job-7", 3, 5, JobState.CANCELLED, "cancelled by a client"));
        Run r = trainer("watch", "job-7", "--server", service.address());
        assertEquals(ExitCodes.JOB_CANCELLED, r.code(), r.err());
        assertTrue(r.out().contains("job-7 CANCELLED: cancelled by a client"), r.out());

        Run unknown = trainer("watch", "job-404", "--server", service.address());
        assertEquals(ExitCodes.NOT_FOUND, unknown.code());
        assertEquals("trainer: no job job-404", unknown.err().strip());
    }

    @Test
    void aWatchThatEndsBeforeTheJobIsAnError() {
        service.watches.put("job-7", FakeJobService.story("job-7", 1, 5, JobState.SUCCEEDED, "").subList(0, 4));
        Run r = trainer("watch", "job-7", "--server", service.address(), "--reconnect", "0");
        assertEquals(ExitCodes.ERROR, r.code());
        assertTrue(r.err().contains("ended the watch before job-7 ended (last state RUNNING)"), r.err());

        // trying again does not help a coordinator that keeps ending the watch with no new epoch
        Run again = trainer("watch", "job-7", "--server", service.address(), "--reconnect", "2");
        assertEquals(ExitCodes.ERROR, again.code());
        assertTrue(again.err().contains("ended the watch before job-7 ended (last state RUNNING); no progress within "
                + "2 s of trying again (--reconnect)"), again.err());
        assertEquals(1, again.err().lines().filter(l -> l.contains("trying again for up to 2 s")).count(), again.err());
    }

    /**
     * A coordinator restarted while a job runs (the job resumes from its checkpoint) breaks its
     * watches off; the watch reaches it again and follows the job to its end, each epoch once.
     */
    @Test
    void aWatchFollowsTheJobAcrossACoordinatorRestart() {
        List<JobEvent> story = FakeJobService.story("job-8", 3, 5, JobState.SUCCEEDED, "");
        service.watches.put("job-8", story);
        // the first watch breaks off after epoch 2's line
        int afterEpoch2 = 0;
        for (int i = 0, seen = 0; i < story.size() && seen < 2; i++) {
            if (story.get(i).hasEpoch()) {
                seen++;
                afterEpoch2 = i + 1;
            }
        }
        service.breakFirstWatchAfter.put("job-8", afterEpoch2);
        Run r = trainer("watch", "job-8", "--server", service.address(), "--progress", "plain");
        assertEquals(ExitCodes.OK, r.code(), r.toString());
        assertTrue(r.err().startsWith("trainer: cannot reach the coordinator at " + service.address()), r.err());
        assertTrue(r.err().contains("trying again for up to 120 s (--reconnect)"), r.err());
        for (int e = 1; e <= 3; e++) {
            String prefix = "epoch " + e + "/3 ";
            assertEquals(1, r.out().lines().filter(l -> l.startsWith(prefix) && l.contains("train_loss")).count(),
                    r.out());
        }
        assertTrue(r.out().contains("job-8 SUCCEEDED after 3 epoch(s)"), r.out());
        assertNoStackTrace(r);
    }

    @Test
    void aRejectedJobListsEveryFieldOnItsOwnLineWithExitCode1() throws Exception {
        service.submitFailure = Status.INVALID_ARGUMENT.withDescription("invalid job (2 problems):\n"
                + "  batch_size: must be >= 1, got 0\n  model.layers[0].linear.out_features: must be >= 1, got -3");
        Path job = jobFile();
        Run r = trainer("submit", "--job", job.toString(), "--server", service.address());
        assertEquals(ExitCodes.ERROR, r.code());
        assertEquals("", r.out());
        // each named by the file it is in, as trainer local names them
        assertEquals(List.of("trainer: invalid job (2 problems):", "  " + job + ": batch_size: must be >= 1, got 0",
                "  " + job + ": model.layers[0].linear.out_features: must be >= 1, got -3"), r.err().lines().toList());
        assertNoStackTrace(r);
        service.submitFailure = Status.INVALID_ARGUMENT.withDescription("invalid job: loss: unknown loss 'hinge'");
        r = trainer("submit", job.toString(), "--server", service.address());
        assertEquals(List.of("trainer: invalid job: " + job + ": loss: unknown loss 'hinge'"), r.err().lines().toList());
    }

    @Test
    void aSubmissionPastItsDeadlineSaysTheJobMayBeQueuedAllTheSame() throws Exception {
        service.submitFailure = Status.DEADLINE_EXCEEDED;
        Run r = trainer("submit", jobFile().toString(), "--server", service.address(), "--timeout", "2");
        assertEquals(ExitCodes.ERROR, r.code());
        assertEquals("", r.out());
        assertEquals("trainer: the coordinator at " + service.address() + " did not answer in time (deadline 2 s; see "
                + "--timeout); it reads the job's data before it answers, and queues no job whose submitter stopped "
                + "waiting, but one answered just too late is queued all the same: look at `trainer status` before "
                + "you submit it again", r.err().strip());
        assertNoStackTrace(r);
    }

    @Test
    void aJobFileThatIsNotAJobIsRefusedBeforeSending() throws Exception {
        Path f = dir.resolve("bad.json");
        Files.writeString(f, "{\"epochz\": 3}");
        Run r = trainer("submit", "--job", f.toString(), "--server", service.address());
        assertEquals(ExitCodes.ERROR, r.code());
        assertTrue(r.err().startsWith("trainer: invalid job: " + f) && r.err().contains("epochz"), r.err());
        assertTrue(service.submitted.isEmpty());

        Run missing = trainer("submit", "--job", dir.resolve("nope.json").toString(), "--server", service.address());
        assertEquals(ExitCodes.ERROR, missing.code());
        assertEquals("trainer: no such file: " + dir.resolve("nope.json"), missing.err().strip());
    }

    @Test
    void statusWithoutAJobPrintsATableOfJobs() {
        Job running = FakeJobService.job("job-000002", "fashion", JobState.RUNNING, 1, 10).toBuilder()
                .addEpochs(FakeJobService.epoch(1, 0.6, 0.8125)).build();
        Job done = FakeJobService.job("job-000001", "digits", JobState.SUCCEEDED, 15, 15);
        service.listed = List.of(running, done);
        Run r = trainer("status", "--state", "RUNNING", "--limit", "7", "--server", service.address());
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of(
                "ID          STATE      EPOCHS  VAL_ACC  SUBMITTED             NAME",
                "job-000002  RUNNING    1/10    0.8125   2023-11-14T22:13:20Z  fashion",
                "job-000001  SUCCEEDED  15/15   -        2023-11-14T22:13:20Z  digits"), r.out().lines().toList());
        assertEquals(JobState.RUNNING, service.lastList.getState());
        assertEquals(7, service.lastList.getLimit());

        service.listed = List.of();
        assertEquals("no jobs", trainer("status", "--server", service.address()).out().strip());
        assertEquals(JobState.JOB_STATE_UNSPECIFIED, service.lastList.getState());

        trainer("status", "--state", "failed", "--server", service.address());
        assertEquals(JobState.FAILED, service.lastList.getState());
        Run bad = trainer("status", "--state", "JOB_STATE_UNSPECIFIED", "--server", service.address());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--state must be one of [QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED], got "
                + "'JOB_STATE_UNSPECIFIED'"), bad.err());
    }

    @Test
    void statusOfAJobShowsItsRecordAndAnUnknownJobIsExitCode5() {
        Job failed = FakeJobService.job("job-3", "mnist", JobState.FAILED, 2, 5).toBuilder()
                .setReason("worker lost").setStepsDone(940).setStepsTotal(2345)
                .addEpochs(FakeJobService.epoch(1, 0.9, 0.7)).addEpochs(FakeJobService.epoch(2, 0.5, 0.75)).build();
        service.jobs.put("job-3", failed);
        Run r = trainer("status", "job-3", "--server", service.address());
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.contains("state       FAILED"), r.out());
        assertTrue(lines.contains("reason      worker lost"), r.out());
        assertTrue(lines.contains("progress    2/5 epochs done, step 940/2,345 (40%)"), r.out());
        assertTrue(lines.contains("last epoch  epoch 2/5  train_loss 0.5000  val_loss 0.5500  val_accuracy 0.7500  "
                + "lr 0.00100  12,346 samples/s  2 worker(s)  5.0 s elapsed"), r.out());
        assertTrue(lines.contains("model       not available"), r.out());

        Run unknown = trainer("status", "job-9", "--server", service.address());
        assertEquals(ExitCodes.NOT_FOUND, unknown.code());
        assertEquals("trainer: no job job-9", unknown.err().strip());
        Run number = trainer("status", "9", "--server", service.address());
        assertEquals(ExitCodes.NOT_FOUND, number.code());
        assertEquals("trainer: no job 9 (ids are written in full: job-000009)", number.err().strip());
    }

    @Test
    void cancelReportsTheNewStateAndAnEndedJobIsOneLineExitCode1() {
        service.jobs.put("job-5", FakeJobService.job("job-5", "q", JobState.QUEUED, 0, 3));
        Run r = trainer("cancel", "job-5", "--server", service.address());
        assertEquals(0, r.code(), r.err());
        assertEquals("job-5 CANCELLED", r.out().strip());
        assertEquals(JobState.CANCELLED, service.jobs.get("job-5").getState());

        service.cancelFailure = Status.FAILED_PRECONDITION.withDescription("job job-5 has already ended (CANCELLED)");
        Run again = trainer("cancel", "job-5", "--server", service.address());
        assertEquals(ExitCodes.ERROR, again.code());
        assertEquals("trainer: job job-5 has already ended (CANCELLED)", again.err().strip());

        // a coordinator of an older version, without the call: said so, not in gRPC's words alone
        service.cancelFailure = Status.UNIMPLEMENTED.withDescription("Method not found: parallax.v1.JobService/CancelJob");
        Run older = trainer("cancel", "job-5", "--server", service.address());
        assertEquals(ExitCodes.ERROR, older.code());
        assertEquals("trainer: the coordinator at " + service.address() + " does not know this request (Method not "
                + "found: parallax.v1.JobService/CancelJob): it runs an older version of Parallax than this client; "
                + "upgrade it, or use a client of its version", older.err().strip());
    }

    @Test
    void resumeQueuesAJobFromItsCheckpointAndARefusalIsOneLineExitCode1() {
        // 8 epochs of 360 steps; its checkpoint 4 steps into epoch 5
        service.jobs.put("job-4", FakeJobService.job("job-4", "d", JobState.FAILED, 4, 8).toBuilder()
                .setStepsTotal(8 * 360).setReason("no worker joined within 60 s").setCheckpointStep(4 * 360 + 4).build());
        String record = trainer("status", "job-4", "--server", service.address()).out();
        assertTrue(record.lines().anyMatch(l -> l.matches("checkpoint +in epoch 5, after its step 4 of 360 \\('trainer "
                + "resume job-4' goes on from there\\)")), record);
        service.watches.put("job-4", FakeJobService.story("job-4", 8, 2, JobState.SUCCEEDED, ""));
        Run r = trainer("resume", "job-4", "--watch", "--server", service.address());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("job-4 QUEUED (1 job(s) ahead): it resumes from its checkpoint in epoch 5, after "
                + "its step 4 of 360 (8 epoch(s) in all)" + System.lineSeparator()), r.out());
        assertTrue(r.out().contains("job-4 SUCCEEDED after 8 epoch(s)"), r.out());
        assertEquals(JobState.QUEUED, service.jobs.get("job-4").getState());

        Run again = trainer("resume", "job-4", "--server", service.address());
        assertEquals(ExitCodes.ERROR, again.code());
        assertEquals("trainer: job job-4 (QUEUED) cannot be resumed: it ended before its first step",
                again.err().strip());
        assertEquals(ExitCodes.NOT_FOUND, trainer("resume", "job-9", "--server", service.address()).code());
        assertEquals(ExitCodes.USAGE, trainer("resume").code());
    }

    @Test
    void deleteForgetsEndedJobsAndRefusesOneThatRunsWithoutStoppingAtIt() {
        service.jobs.put("job-1", FakeJobService.job("job-1", "a", JobState.SUCCEEDED, 3, 3));
        service.jobs.put("job-2", FakeJobService.job("job-2", "b", JobState.FAILED, 1, 3));
        service.jobs.put("job-3", FakeJobService.job("job-3", "c", JobState.RUNNING, 1, 3));
        Run r = trainer("delete", "job-1", "job-2", "--server", service.address());
        assertEquals(0, r.code(), r.err());
        assertEquals("job-1 deleted (SUCCEEDED)\njob-2 deleted (FAILED)", r.out().strip().replace("\r", ""));
        assertTrue(!service.jobs.containsKey("job-1") && !service.jobs.containsKey("job-2"));

        service.jobs.put("job-4", FakeJobService.job("job-4", "d", JobState.CANCELLED, 1, 3));
        service.jobs.put("job-5", FakeJobService.job("job-5", "e", JobState.FAILED, 1, 3));
        // a running job and an unknown one in the list: the rest are deleted all the same
        Run mixed = trainer("delete", "job-4", "job-3", "job-1", "job-5", "--server", service.address());
        assertEquals(ExitCodes.ERROR, mixed.code());
        assertEquals("job-4 deleted (CANCELLED)\njob-5 deleted (FAILED)", mixed.out().strip().replace("\r", ""));
        assertEquals("trainer: job job-3 has not ended (RUNNING); cancel it first\ntrainer: no job job-1",
                mixed.err().strip().replace("\r", ""));
        assertEquals(ExitCodes.NOT_FOUND, trainer("delete", "job-1", "--server", service.address()).code());
        assertEquals(ExitCodes.USAGE, trainer("delete", "--server", service.address()).code());
    }

    @Test
    void deleteOlderThanPicksTheEndedJobsThatFinishedBeforeThen() {
        long now = System.currentTimeMillis();
        long day = 86_400_000L;
        Job old = FakeJobService.job("job-1", "old", JobState.SUCCEEDED, 3, 3).toBuilder().setFinishedAtMs(now - 10 * day)
                .build();
        Job oldFailed = FakeJobService.job("job-2", "old failed", JobState.FAILED, 1, 3).toBuilder()
                .setFinishedAtMs(now - 9 * day).build();
        Job recent = FakeJobService.job("job-3", "recent", JobState.SUCCEEDED, 3, 3).toBuilder()
                .setFinishedAtMs(now - day).build();
        Job running = FakeJobService.job("job-4", "running", JobState.RUNNING, 1, 3);
        for (Job j : List.of(old, oldFailed, recent, running)) {
            service.jobs.put(j.getId(), j);
        }
        service.listed = List.of(running, recent, oldFailed, old); // newest first, as the coordinator lists

        Run r = trainer("delete", "--older-than", "7", "--server", service.address());
        assertEquals(0, r.code(), r.err());
        assertEquals("job-1 deleted (SUCCEEDED)\njob-2 deleted (FAILED)", r.out().strip().replace("\r", ""));
        assertTrue(service.jobs.containsKey("job-3") && service.jobs.containsKey("job-4"));

        service.jobs.put("job-1", old);
        service.jobs.put("job-2", oldFailed);
        Run failedOnly = trainer("delete", "--older-than", "7", "--state", "failed", "--server", service.address());
        assertEquals("job-2 deleted (FAILED)", failedOnly.out().strip(), failedOnly.err());
        assertEquals(JobState.FAILED, service.lastList.getState());
        Run none = trainer("delete", "--older-than", "30", "--server", service.address());
        assertEquals(0, none.code());
        assertEquals("no ended job finished more than 30.0 day(s) ago", none.out().strip());
        assertEquals(ExitCodes.USAGE, trainer("delete", "--older-than", "-1", "--server", service.address()).code());
        assertEquals(ExitCodes.USAGE, trainer("delete", "--older-than", "1", "--state", "running", "--server",
                service.address()).code());
        assertEquals(ExitCodes.USAGE, trainer("delete", "job-1", "--state", "failed", "--server", service.address()).code());
        Run both = trainer("delete", "--older-than", "0", "job-3", "--server", service.address());
        assertEquals(ExitCodes.USAGE, both.code());
        assertTrue(both.err().startsWith("trainer: name the jobs to delete, or give --older-than DAYS, not both"),
                both.err());
        assertTrue(service.jobs.containsKey("job-3"), "nothing deleted");
    }

    @Test
    void modelDownloadsByteExactThroughATemporaryFile() throws Exception {
        byte[] model = new byte[(5 << 20) / 2 + 7];
        new Random(3).nextBytes(model);
        service.models.put("job-1", model);
        Path out = dir.resolve("models/final.safetensors");
        Run r = trainer("model", "job-1", "--out", out.toString(), "--server", service.address());
        assertEquals(0, r.code(), r.err());
        assertEquals(out.toString(), r.out().strip());
        assertArrayEquals(model, Files.readAllBytes(out));
        try (Stream<Path> files = Files.list(out.getParent())) {
            assertEquals(List.of(out), files.toList(), "no temporary file left behind");
        }
    }

    @Test
    void aTruncatedModelStreamLeavesNoFile() throws Exception {
        byte[] model = new byte[3000];
        service.models.put("job-1", model);
        service.announcedModelSize = 4000;
        Path out = dir.resolve("m.safetensors");
        Run r = trainer("model", "job-1", "--out", out.toString(), "--server", service.address());
        assertEquals(ExitCodes.ERROR, r.code());
        assertEquals("trainer: the model of job-1 arrived incomplete: 3000 of 4000 bytes", r.err().strip());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(), files.toList());
        }

        service.jobs.put("job-2", FakeJobService.job("job-2", "failed", JobState.FAILED, 1, 3));
        Run none = trainer("model", "job-2", "--out", out.toString(), "--server", service.address());
        assertEquals(ExitCodes.ERROR, none.code());
        assertEquals("trainer: job job-2 has no model", none.err().strip());

        // a path through a file: the reason, not just the path
        Files.writeString(out, "a file, not a folder");
        service.announcedModelSize = -1;
        Run through = trainer("model", "job-1", "--out", out.resolve("x.safetensors").toString(), "--server",
                service.address());
        assertEquals(ExitCodes.ERROR, through.code());
        assertEquals("trainer: --out " + out + " exists and is not a folder", through.err().strip());
        // a full disk: the file named, with the option
        Path full = Path.of("/dev/full");
        if (Files.isWritable(full)) {
            Run noRoom = trainer("model", "job-1", "--out", full.toString(), "--server", service.address());
            assertEquals(ExitCodes.ERROR, noRoom.code());
            assertEquals("trainer: --out /dev/full: No space left on device", noRoom.err().strip());
        }
    }

    @Test
    void nothingListeningIsOneLineExitCode1WithinTheDeadline() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        long start = System.nanoTime();
        Run r = trainer("status", "--server", "127.0.0.1:" + port, "--timeout", "3");
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(ExitCodes.ERROR, r.code());
        assertTrue(r.err().startsWith("trainer: cannot reach the coordinator at 127.0.0.1:" + port), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertNoStackTrace(r);
        assertTrue(seconds < 3, "took " + seconds + " s");

        Run watch = trainer("watch", "job-1", "--server", "127.0.0.1:" + port);
        assertEquals(ExitCodes.ERROR, watch.code());
        assertTrue(watch.err().startsWith("trainer: cannot reach the coordinator at 127.0.0.1:" + port), watch.err());
    }

    @Test
    void waitRidesThroughACoordinatorThatIsNotListeningYet() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path job = jobFile();
        java.util.concurrent.CompletableFuture<Run> submit = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> trainer("submit", "--job", job.toString(), "--server", "127.0.0.1:" + port, "--wait", "20"));
        Thread.sleep(2500); // the coordinator's restart
        try (FakeJobService back = new FakeJobService(port)) {
            back.nextId = "job-000007";
            long up = System.nanoTime();
            Run r = submit.get(30, java.util.concurrent.TimeUnit.SECONDS);
            // tried every half second, not after the channel's growing back-off
            assertTrue((System.nanoTime() - up) / 1e9 < 2, "reached " + (System.nanoTime() - up) / 1e9 + " s after");
            assertEquals(0, r.code(), r.err());
            assertEquals("job-000007" + System.lineSeparator(), r.out());
            assertEquals(List.of("trainer: cannot reach the coordinator at 127.0.0.1:" + port + " (connection refused); "
                    + "trying again for up to 20 s (--wait)"), r.err().lines().toList());
            assertEquals(1, back.submitted.size(), "sent once");
        }
        // a window that ends with nobody there: the usual one line after the notice
        long start = System.nanoTime();
        Run r = trainer("status", "--server", "127.0.0.1:" + port, "--wait", "1.5");
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(ExitCodes.ERROR, r.code());
        assertEquals(2, r.err().lines().count(), r.err());
        assertTrue(r.err().lines().toList().get(1).startsWith("trainer: cannot reach the coordinator at 127.0.0.1:"
                + port), r.err());
        assertTrue(seconds >= 1 && seconds < 10, "took " + seconds + " s");
        assertNoStackTrace(r);
    }

    @Test
    void aListenerThatNeverAnswersFailsAWatchWithinTheDeadline() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            // accepts connections (the backlog does) and never says a word
            long start = System.nanoTime();
            Run watch = trainer("watch", "job-1", "--server", "127.0.0.1:" + silent.getLocalPort(), "--timeout", "1");
            double seconds = (System.nanoTime() - start) / 1e9;
            assertEquals(ExitCodes.ERROR, watch.code());
            assertTrue(watch.err().startsWith("trainer: the coordinator at 127.0.0.1:" + silent.getLocalPort()
                    + " did not answer in time"), watch.err());
            assertTrue(seconds < 10, "took " + seconds + " s");

            // a model download too, whose transfer has a deadline of its own (minutes)
            start = System.nanoTime();
            Run model = trainer("model", "job-1", "--out", dir.resolve("m.safetensors").toString(), "--server",
                    "127.0.0.1:" + silent.getLocalPort(), "--timeout", "1");
            seconds = (System.nanoTime() - start) / 1e9;
            assertEquals(ExitCodes.ERROR, model.code());
            assertTrue(model.err().startsWith("trainer: the coordinator at 127.0.0.1:" + silent.getLocalPort()
                    + " did not answer in time"), model.err());
            assertTrue(seconds < 10, "took " + seconds + " s");

            // a submission too, whose own deadline (600 s unless --timeout says) leaves time to
            // read the data: a first request under the 10 s of every other request finds out that
            // nobody answers
            start = System.nanoTime();
            Run submit = trainer("submit", jobFile().toString(), "--server", "127.0.0.1:" + silent.getLocalPort());
            seconds = (System.nanoTime() - start) / 1e9;
            assertEquals(ExitCodes.ERROR, submit.code());
            assertEquals("trainer: the coordinator at 127.0.0.1:" + silent.getLocalPort() + " did not answer in time "
                    + "(deadline 10 s; see --timeout)", submit.err().strip());
            assertTrue(seconds < 30, "took " + seconds + " s");
        }
    }

    @Test
    void aServerThatIsNotGrpcIsSaidToBeSo() throws Exception {
        com.sun.net.httpserver.HttpServer http = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.start();
        try {
            String address = "127.0.0.1:" + http.getAddress().getPort();
            Run r = trainer("status", "--server", address, "--timeout", "5");
            assertEquals(ExitCodes.ERROR, r.code());
            assertEquals("trainer: the server at " + address + " does not speak gRPC: is that the coordinator's gRPC "
                    + "port (--grpc-port, 50051 by default)?", r.err().strip());
        } finally {
            http.stop(0);
        }
    }

    @Test
    void aCoordinatorThatDoesNotAnswerHitsTheDeadline() {
        service.getJobGate = new CountDownLatch(1);
        long start = System.nanoTime();
        Run r = trainer("status", "job-1", "--server", service.address(), "--timeout", "0.5");
        double seconds = (System.nanoTime() - start) / 1e9;
        service.getJobGate.countDown();
        assertEquals(ExitCodes.ERROR, r.code());
        assertEquals("trainer: the coordinator at " + service.address() + " did not answer in time (deadline 0.5 s; "
                + "see --timeout)", r.err().strip());
        assertTrue(seconds < 5, "took " + seconds + " s");
    }

    @Test
    void badAddressesAndMissingArgumentsAreUsageErrors() {
        assertEquals(ExitCodes.USAGE, trainer("status", "--server", "localhost").code());
        assertEquals(ExitCodes.USAGE, trainer("status", "--server", "localhost:http").code());
        assertEquals(ExitCodes.USAGE, trainer("status", "--server", "::1:50051").code());
        assertEquals(ExitCodes.USAGE, trainer("status", "--timeout", "0").code());
        assertEquals(ExitCodes.USAGE, trainer("watch").code());
        assertEquals(ExitCodes.USAGE, trainer("model", "job-1").code());
        assertEquals(ExitCodes.USAGE, trainer("submit").code());
        assertEquals(ExitCodes.USAGE, trainer("watch", "job-1", "--progress", "fancy").code());
    }

    @Test
    void everyCommandHasHelpAndTheExitCodesAreInTheLaunchersHelp() {
        for (String c : List.of("submit", "status", "watch", "cancel", "resume", "delete", "model")) {
            Run r = trainer(c, "--help");
            assertEquals(0, r.code(), c);
            assertTrue(r.out().contains("--server=HOST:PORT") && r.out().contains("PARALLAX_SERVER"), r.out());
            assertTrue(r.out().contains("Exit code"), r.out());
        }
        Run top = trainer("--help");
        assertTrue(top.out().contains("Exit codes:") && top.out().contains("3  the watched job FAILED")
                && top.out().contains("5  no such job") && top.out().contains("6  coordinator: its cluster node was downed"),
                top.out());
    }

    /** {@code trainer} as its own process, with PARALLAX_SERVER set: exit code and both streams as a user sees them. */
    private static Run process(String server, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), TrainerCli.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("PARALLAX_SERVER", server);
        Path out = Files.createTempFile("trainer", ".out");
        Path err = Files.createTempFile("trainer", ".err");
        try {
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "trainer did not exit");
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.delete(out);
            Files.delete(err);
        }
    }

    @Test
    void theServerComesFromTheEnvironmentAndAFailedConnectionIsOneLineOnStderr() throws Exception {
        service.listed = List.of(FakeJobService.job("job-000001", "digits", JobState.QUEUED, 0, 15));
        Run r = process(service.address(), "status");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("job-000001  QUEUED")), r.out());

        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Run down = process("127.0.0.1:" + port, "watch", "job-000001");
        assertEquals(ExitCodes.ERROR, down.code());
        assertEquals("", down.out());
        // the process's whole stderr, so a library's logged stack trace would show here
        assertEquals(List.of("trainer: cannot reach the coordinator at 127.0.0.1:" + port + " (connection refused)"),
                down.err().lines().toList());
    }

    @Test
    void anAddressWithASchemeOrTheClusterPortSaysWhichToGive() throws Exception {
        Run http = trainer("status", "--server", "http://127.0.0.1:50051");
        assertEquals(ExitCodes.USAGE, http.code());
        assertTrue(http.err().contains("write HOST:PORT without 'http://' (e.g. 127.0.0.1:50051), got "
                + "'http://127.0.0.1:50051'"), http.err());
        Run akka = trainer("status", "--server", "akka://parallax@127.0.0.1:2551");
        assertEquals(ExitCodes.USAGE, akka.code());
        assertTrue(akka.err().contains("is the coordinator's cluster address; its job service listens on its gRPC "
                + "port"), akka.err());
        // a server that takes the connection and drops it, as a coordinator's Akka port does
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread dropper = new Thread(() -> {
                while (!s.isClosed()) {
                    try (java.net.Socket c = s.accept()) {
                        c.setSoLinger(true, 0); // close with a reset
                    } catch (IOException closed) {
                        return;
                    }
                }
            });
            dropper.start();
            Run reset = trainer("status", "--server", "127.0.0.1:" + s.getLocalPort());
            assertEquals(ExitCodes.ERROR, reset.code());
            // gRPC sees a reset or a plain close, as the timing falls
            assertTrue(reset.err().contains("(connection reset): is that the coordinator's gRPC port")
                    || reset.err().contains("(the server closed the connection): is that the coordinator's gRPC port"),
                    reset.err());
        }
        // nothing at the default address: where a cluster's address comes from
        try (ServerSocket free = new ServerSocket()) {
            free.bind(new java.net.InetSocketAddress("127.0.0.1", 50051));
        } catch (IOException inUse) {
            return; // something listens there on this machine: nothing to refuse the connection
        }
        Run refused = trainer("status", "--server", ServerAddress.DEFAULT);
        assertEquals(ExitCodes.ERROR, refused.code());
        assertTrue(refused.err().contains("(connection refused), the default address: is the coordinator running? "
                + "One started with another gRPC port is reached with --server HOST:PORT or PARALLAX_SERVER"),
                refused.err());
    }

    @Test
    void serverAddressesParse() {
        assertEquals(new ServerAddress("10.0.0.5", 50051), ServerAddress.parse("10.0.0.5:50051"));
        assertEquals(new ServerAddress("::1", 7), ServerAddress.parse("[::1]:7"));
        assertEquals("[::1]:7", ServerAddress.parse("[::1]:7").toString());
        assertEquals("coordinator.local:1", ServerAddress.parse(" coordinator.local:1 ").toString());
    }
}
