package io.parallax.coordinator.service;

import static io.parallax.coordinator.service.ServiceFixture.get;
import static io.parallax.coordinator.service.ServiceFixture.model;
import static io.parallax.coordinator.service.ServiceFixture.submit;
import static io.parallax.coordinator.service.ServiceFixture.watchAll;
import static io.parallax.coordinator.service.ServiceFixture.withDeadline;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import io.parallax.coordinator.metrics.MetricsSinks;
import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.data.Dataset;
import io.parallax.engine.io.ModelFile;
import io.parallax.engine.metric.Accuracy;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.tensor.Tensor;
import io.parallax.proto.v1.EpochMetrics;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobEvent;
import io.parallax.proto.v1.JobId;
import io.parallax.proto.v1.JobServiceGrpc;
import io.parallax.proto.v1.JobSpec;
import io.parallax.proto.v1.JobState;
import io.parallax.proto.v1.ListJobsRequest;
import io.parallax.proto.v1.StepProgress;
import io.parallax.worker.job.DataRoots;
import io.parallax.worker.job.JobPlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Submit, watch, fetch the model, list, and the generic gRPC services, on one coordinator. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JobServiceTest {

    @TempDir
    static Path temp;

    Path state;
    Path ownData;

    ServiceFixture fx;
    JobServiceGrpc.JobServiceBlockingStub stub;

    @BeforeAll
    void start() throws Exception {
        state = temp.resolve("coordinator");
        ownData = Files.createDirectories(temp.resolve("data"));
        fx = new ServiceFixture(state, List.of(ServiceFixture.EXAMPLES, ownData), 50);
        stub = fx.stub();
    }

    @AfterAll
    void stop() throws Exception {
        fx.close();
    }

    @Test
    void aJobRunsToSucceededAndItsModelGivesTheReportedAccuracy() throws Exception {
        JobSpec spec = ServiceFixture.smallJob("small", 2, 64);
        // queued behind a job that runs until cancelled, so that the watch begins before it
        // does, however loaded the machine (a watch that starts late sees no steps)
        String blocker = submit(stub, ServiceFixture.longJob("blocker"));
        String id = submit(stub, spec);
        Iterator<JobEvent> it = withDeadline(stub).watchJob(io.parallax.proto.v1.JobId.newBuilder().setId(id).build());
        List<JobEvent> events = new ArrayList<>();
        events.add(it.next());
        assertEquals(JobState.QUEUED, events.get(0).getSnapshot().getState());
        withDeadline(stub).cancelJob(io.parallax.proto.v1.JobId.newBuilder().setId(blocker).build());
        it.forEachRemaining(events::add);

        // numbering, first and last
        for (int i = 0; i < events.size(); i++) {
            assertEquals(i + 1, events.get(i).getSequence(), "sequence of event " + i);
            assertEquals(id, events.get(i).getJobId());
        }
        assertTrue(events.get(0).hasSnapshot(), events.get(0).toString());
        JobEvent last = events.get(events.size() - 1);
        assertTrue(last.hasFinished(), last.toString());
        Job done = last.getFinished();
        assertEquals(JobState.SUCCEEDED, done.getState(), done.getReason());
        assertTrue(done.getModelAvailable());

        // what happened in between, in order: RUNNING, steps, epochs, SUCCEEDED
        List<JobState> states = events.stream().filter(JobEvent::hasState).map(e -> e.getState().getState()).toList();
        assertEquals(JobState.SUCCEEDED, states.get(states.size() - 1));
        assertTrue(states.contains(JobState.RUNNING) || events.get(0).getSnapshot().getState() == JobState.RUNNING);
        long stepsPerEpoch = (455 + 63) / 64;
        List<StepProgress> steps = events.stream().filter(JobEvent::hasStep).map(JobEvent::getStep).toList();
        assertFalse(steps.isEmpty());
        StepProgress lastStep = steps.get(steps.size() - 1);
        assertEquals(2 * stepsPerEpoch, lastStep.getStep());
        assertEquals(2 * stepsPerEpoch, lastStep.getStepsTotal());
        assertEquals(stepsPerEpoch, lastStep.getStepsInEpoch());
        assertEquals(stepsPerEpoch, lastStep.getStepInEpoch());
        assertEquals(2, lastStep.getEpoch());
        assertEquals(0.0, lastStep.getEpochSecondsLeft(), 1e-9);
        assertTrue(lastStep.getSamplesPerSecond() > 0 && Double.isFinite(lastStep.getLoss()));
        List<EpochMetrics> epochs = events.stream().filter(JobEvent::hasEpoch).map(JobEvent::getEpoch).toList();
        assertEquals(2, epochs.size());
        assertEquals(epochs, done.getEpochsList());
        assertEquals(2, done.getEpochsDone());
        assertEquals(2 * stepsPerEpoch, done.getStepsDone());
        assertEquals(2, done.getWorkers());
        assertTrue(done.getStartedAtMs() >= done.getSubmittedAtMs() && done.getFinishedAtMs() >= done.getStartedAtMs());

        // the model, re-evaluated here on the job's validation rows, gives the reported accuracy
        byte[] bytes = model(stub, id);
        Path file = state.resolve("fetched.safetensors");
        Files.write(file, bytes);
        Backend cpu = Backends.cpu();
        Sequential model = ModelFile.load(file, cpu).eval();
        Dataset val = JobPlan.load(spec, DataRoots.of(ServiceFixture.EXAMPLES)).validation().orElseThrow();
        Tensor out = model.forward(Tensor.of(cpu, val.features(), val.rows(), val.width()));
        double accuracy = Accuracy.multiClass(out, val.labels());
        double reported = epochs.get(1).getValAccuracy();
        assertTrue(reported > 0.85, "accuracy after 2 epochs: " + reported);
        assertEquals(reported, accuracy, 0.5 / val.rows(), "accuracy of the fetched model");

        // the record and the metrics file on the coordinator's disk
        assertEquals(done, get(stub, id));
        Path dir = fx.store.jobDir(id);
        List<String> lines = Files.readAllLines(dir.resolve(MetricsSinks.METRICS_FILE));
        assertEquals(2, lines.size());
        assertTrue(lines.get(1).startsWith("{\"epoch\":2,\"train_loss\":"), lines.get(1));
        assertTrue(lines.get(1).contains("\"val_accuracy\":" + reported), lines.get(1));
        assertTrue(Files.exists(dir.resolve(JobStore.RECORD)));

        // a watch of a finished job: the snapshot, then the finished record
        List<JobEvent> again = watchAll(stub, id);
        assertEquals(2, again.size());
        assertEquals(done, again.get(0).getSnapshot());
        assertEquals(done, again.get(1).getFinished());
    }

    @Test
    void deleteForgetsAnEndedJobAndItsFilesButNotARunningOne() throws Exception {
        String done = submit(stub, ServiceFixture.smallJob("to delete", 1, 128));
        watchAll(stub, done);
        Path dir = fx.store.jobDir(done);
        assertTrue(Files.exists(dir.resolve(JobStore.MODEL)));
        io.parallax.proto.v1.JobId doneId = io.parallax.proto.v1.JobId.newBuilder().setId(done).build();
        assertEquals(JobState.SUCCEEDED, withDeadline(stub).deleteJob(doneId).getState());
        assertTrue(!Files.exists(dir), "its folder is gone");
        assertCode(Status.Code.NOT_FOUND, () -> withDeadline(stub).getJob(doneId));
        assertCode(Status.Code.NOT_FOUND, () -> withDeadline(stub).deleteJob(doneId));

        String running = submit(stub, ServiceFixture.longJob("still running"));
        io.parallax.proto.v1.JobId runningId = io.parallax.proto.v1.JobId.newBuilder().setId(running).build();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> withDeadline(stub).deleteJob(runningId));
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("cancel it first"), e.getStatus().getDescription());
        withDeadline(stub).cancelJob(runningId);
        watchAll(stub, running);
        withDeadline(stub).deleteJob(runningId);
        // ids are never given again, though the newest folders are gone
        assertTrue(submit(stub, ServiceFixture.smallJob("next", 1, 128)).compareTo(running) > 0);
    }

    @Test
    void aRecordThatCouldNotBeWrittenIsWrittenWithTheNextOne() throws Exception {
        String blocker = submit(stub, ServiceFixture.longJob("blocker"));
        String queued = submit(stub, ServiceFixture.smallJob("queued", 1, 128));
        Path record = fx.store.jobDir(queued).resolve(JobStore.RECORD);
        assertTrue(Files.readString(record).contains("QUEUED"));
        // the record's temporary file cannot be written (a full disk, say): a folder in its way
        Path obstacle = Files.createDirectories(fx.store.jobDir(queued).resolve(JobStore.RECORD + ".tmp"));
        Files.writeString(obstacle.resolve("x"), "x");
        withDeadline(stub).cancelJob(io.parallax.proto.v1.JobId.newBuilder().setId(queued).build());
        assertTrue(Files.readString(record).contains("QUEUED"), "not written: the disk is 'full'");
        // room again: the next record written anywhere brings this one up to date
        Files.delete(obstacle.resolve("x"));
        Files.delete(obstacle);
        withDeadline(stub).cancelJob(io.parallax.proto.v1.JobId.newBuilder().setId(blocker).build());
        watchAll(stub, blocker);
        assertTrue(Files.readString(record).contains("CANCELLED"), Files.readString(record));
        assertTrue(!Files.exists(obstacle));
    }

    @Test
    void aModelThatCannotBeSavedIsTriedAgainAndTheJobSucceedsOnceThereIsRoom() throws Exception {
        long before = JobQueue.modelSaveRetryMillis;
        JobQueue.modelSaveRetryMillis = 200;
        try {
            String id = submit(stub, ServiceFixture.smallJob("no-room", 3, 128));
            // the model's place is taken (a full disk, say): a folder where the file goes
            Path obstacle = Files.createDirectories(fx.store.modelFile(id));
            Files.writeString(obstacle.resolve("x"), "x");
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
            Job waiting = withDeadline(stub).getJob(io.parallax.proto.v1.JobId.newBuilder().setId(id).build());
            while (!waiting.getLastNote().startsWith("the model could not be saved") && System.nanoTime() < deadline) {
                Thread.sleep(50);
                waiting = withDeadline(stub).getJob(io.parallax.proto.v1.JobId.newBuilder().setId(id).build());
            }
            assertTrue(waiting.getLastNote().contains("; trying again every 1 s for up to 10 minutes (free some "
                    + "space, or cancel the job)"), waiting.toString());
            assertEquals(JobState.RUNNING, waiting.getState());
            // room again
            Files.delete(obstacle.resolve("x"));
            Files.delete(obstacle);
            watchAll(stub, id);
            Job done = withDeadline(stub).getJob(io.parallax.proto.v1.JobId.newBuilder().setId(id).build());
            assertEquals(JobState.SUCCEEDED, done.getState(), done.getReason());
            assertTrue(done.getModelAvailable());
            assertTrue(Files.isRegularFile(fx.store.modelFile(id)));
        } finally {
            JobQueue.modelSaveRetryMillis = before;
        }
    }

    @Test
    void aStoredModelCutShortIsRefusedAsDamagedNotStreamed() throws Exception {
        String id = submit(stub, ServiceFixture.smallJob("cut", 1, 128));
        watchAll(stub, id);
        Path file = fx.store.modelFile(id);
        long size = Files.size(file);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(size / 2);
        }
        io.grpc.StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
                io.grpc.StatusRuntimeException.class, () -> ServiceFixture.model(stub, id));
        assertEquals(io.grpc.Status.Code.DATA_LOSS, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("the model file of job " + id + " in the coordinator's "
                + "state directory is damaged: "), e.getStatus().getDescription());
    }

    @Test
    void aFileSystemFailureIsDescribedInWordsNotByItsPathAlone() {
        assertEquals("/srv/state/jobs/job-000011: permission denied",
                JobServiceImpl.describe(new java.nio.file.AccessDeniedException("/srv/state/jobs/job-000011")));
        assertEquals("/srv/x: No space left on device", JobServiceImpl.describe(
                new java.nio.file.FileSystemException("/srv/x", null, "No space left on device")));
        assertEquals("disk on fire", JobServiceImpl.describe(new java.io.IOException("disk on fire")));
    }

    @Test
    void listJobsIsNewestFirstAndFilters() {
        String a = submit(stub, ServiceFixture.smallJob("list-a", 3, 128));
        String b = submit(stub, ServiceFixture.smallJob("list-b", 1, 128));
        watchAll(stub, b);
        List<Job> all = withDeadline(stub).listJobs(ListJobsRequest.getDefaultInstance()).getJobsList();
        List<String> ids = all.stream().map(Job::getId).toList();
        assertTrue(ids.indexOf(b) < ids.indexOf(a) && ids.indexOf(a) >= 0, ids.toString());
        assertEquals(ids.stream().sorted(java.util.Comparator.reverseOrder()).toList(), ids);
        // a listed record has its last epoch's metrics; GetJob has every epoch
        Job listedA = all.get(ids.indexOf(a));
        Job fullA = withDeadline(stub).getJob(io.parallax.proto.v1.JobId.newBuilder().setId(a).build());
        assertEquals(3, fullA.getEpochsCount());
        assertEquals(List.of(fullA.getEpochs(2)), listedA.getEpochsList());
        List<Job> one = withDeadline(stub).listJobs(ListJobsRequest.newBuilder().setLimit(1).build()).getJobsList();
        assertEquals(List.of(all.get(0)), one);
        List<Job> succeeded = withDeadline(stub).listJobs(ListJobsRequest.newBuilder()
                .setState(JobState.SUCCEEDED).build()).getJobsList();
        assertTrue(succeeded.stream().allMatch(j -> j.getState() == JobState.SUCCEEDED));
        assertTrue(succeeded.stream().map(Job::getId).collect(Collectors.toSet()).containsAll(Set.of(a, b)));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> withDeadline(stub).listJobs(ListJobsRequest.newBuilder().setLimit(-1).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    }

    /**
     * A submitter whose deadline passes while the coordinator reads the job's data was told the
     * submission failed and may send it again: that job is not queued. A second submission of the
     * same data, sent after it, takes as long to read; twice that long after it is queued, the
     * first would have been queued too.
     */
    @Test
    void aSubmissionWhoseSubmitterStoppedWaitingIsNotQueued() throws Exception {
        StringBuilder csv = new StringBuilder("a,b,c,d,e,f,target\n");
        java.util.Random random = new java.util.Random(3);
        for (int r = 0; r < 600_000; r++) {
            for (int c = 0; c < 6; c++) {
                csv.append(random.nextInt(1000) / 10.0).append(',');
            }
            csv.append(r % 2).append('\n');
        }
        Files.writeString(ownData.resolve("large.csv"), csv);
        // a call first, so that the one under test is sent at once, not after the client's own set-up
        withDeadline(stub).listJobs(ListJobsRequest.getDefaultInstance());
        StatusRuntimeException late = assertThrows(StatusRuntimeException.class, () -> stub
                .withDeadlineAfter(500, java.util.concurrent.TimeUnit.MILLISECONDS)
                .submitJob(ServiceFixture.csvJob("hasty", "large.csv", 1, 4096)));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, late.getStatus().getCode());
        long sent = System.nanoTime();
        String patient = submit(stub, ServiceFixture.csvJob("patient", "large.csv", 1, 4096));
        Thread.sleep(Math.max(1000, 2 * (System.nanoTime() - sent) / 1_000_000));
        List<String> names = withDeadline(stub).listJobs(ListJobsRequest.getDefaultInstance()).getJobsList().stream()
                .map(Job::getName).toList();
        assertTrue(names.contains("patient") && !names.contains("hasty"), names.toString());
        watchAll(stub, patient);
    }

    @Test
    void unknownIdsAreNotFoundAndNeverBecomePaths() {
        JobId none = JobId.getDefaultInstance();
        assertCode(Status.Code.INVALID_ARGUMENT, () -> withDeadline(stub).getJob(none));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> withDeadline(stub).cancelJob(none));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> withDeadline(stub).getModel(none).forEachRemaining(c -> { }));
        assertCode(Status.Code.INVALID_ARGUMENT, () -> withDeadline(stub).watchJob(none).forEachRemaining(c -> { }));
        for (String id : List.of("job-999999", "../../../etc/passwd", "job-000001/../../lock")) {
            JobId jobId = JobId.newBuilder().setId(id).build();
            assertCode(Status.Code.NOT_FOUND, () -> withDeadline(stub).getJob(jobId));
            assertCode(Status.Code.NOT_FOUND, () -> withDeadline(stub).cancelJob(jobId));
            assertCode(Status.Code.NOT_FOUND, () -> withDeadline(stub).getModel(jobId).forEachRemaining(c -> { }));
            assertCode(Status.Code.NOT_FOUND, () -> withDeadline(stub).watchJob(jobId).forEachRemaining(c -> { }));
        }
    }

    @Test
    void aFailedJobHasNoModelAndCannotBeCancelled() throws Exception {
        // valid at submission; its data is deleted while it waits behind a long job
        Path copy = ownData.resolve("vanishing.csv");
        Files.copy(ServiceFixture.EXAMPLES.resolve("data/breast_cancer.csv"), copy);
        String blocker = submit(stub, ServiceFixture.longJob("blocker"));
        String id = submit(stub, ServiceFixture.csvJob("vanishing", copy.toString(), 1, 64));
        Files.delete(copy);
        withDeadline(stub).cancelJob(JobId.newBuilder().setId(blocker).build());
        List<JobEvent> events = watchAll(stub, id);
        Job done = events.get(events.size() - 1).getFinished();
        assertEquals(JobState.FAILED, done.getState());
        assertTrue(done.getReason().contains("data.train.csv.path"), done.getReason());
        assertFalse(done.getModelAvailable());
        JobId jobId = JobId.newBuilder().setId(id).build();
        assertCode(Status.Code.FAILED_PRECONDITION, () -> withDeadline(stub).getModel(jobId).forEachRemaining(c -> { }));
        assertCode(Status.Code.FAILED_PRECONDITION, () -> withDeadline(stub).cancelJob(jobId));
    }

    @Test
    void healthAndReflectionAnswer() throws Exception {
        ManagedChannel channel = fx.channel();
        HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel)
                .withDeadlineAfter(10, TimeUnit.SECONDS);
        for (String service : List.of("", JobServiceGrpc.SERVICE_NAME)) {
            assertEquals(HealthCheckResponse.ServingStatus.SERVING,
                    health.check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus(), service);
        }
        CompletableFuture<List<String>> services = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .serverReflectionInfo(new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse r) {
                        services.complete(r.getListServicesResponse().getServiceList().stream()
                                .map(ServiceResponse::getName).toList());
                    }

                    @Override
                    public void onError(Throwable t) {
                        services.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        services.completeExceptionally(new AssertionError("no answer"));
                    }
                });
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("*").build());
        List<String> names = services.get(10, TimeUnit.SECONDS);
        requests.onCompleted();
        assertTrue(names.contains(JobServiceGrpc.SERVICE_NAME), names.toString());
        assertTrue(names.contains("grpc.health.v1.Health"), names.toString());
        // and the v1alpha reflection that older clients use
        assertTrue(names.contains("grpc.reflection.v1alpha.ServerReflection"), names.toString());
    }

    static void assertCode(Status.Code code, Runnable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), String.valueOf(e.getStatus().getDescription()));
        String d = String.valueOf(e.getStatus().getDescription());
        assertFalse(d.contains("Exception") || d.contains("\tat "), "no Java internals in: " + d);
    }
}
