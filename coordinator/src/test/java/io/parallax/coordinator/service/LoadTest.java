package io.parallax.coordinator.service;

import static io.parallax.coordinator.service.ServiceFixture.withDeadline;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobEvent;
import io.parallax.proto.v1.JobServiceGrpc;
import io.parallax.proto.v1.JobState;
import io.parallax.proto.v1.ListJobsRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Twenty clients, each on its own TCP connection to the coordinator's server, submit a small job at the same moment and watch it
 * to the end: no call fails, every job succeeds, every event stream is complete and in order, and
 * the coordinator's list holds exactly those twenty.
 */
class LoadTest {

    static final int CLIENTS = 20;

    @TempDir
    Path state;

    @Test
    void twentyClientsSubmitAndWatchAtOnce() throws Exception {
        try (ServiceFixture fx = new ServiceFixture(state, List.of(ServiceFixture.EXAMPLES), CLIENTS, true)) {
            ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Job>> results = new ArrayList<>();
            long start = System.nanoTime();
            for (int c = 0; c < CLIENTS; c++) {
                JobServiceGrpc.JobServiceBlockingStub stub = fx.stub();
                String name = "client-" + c;
                results.add(clients.submit(() -> {
                    go.await();
                    String id = ServiceFixture.submit(stub, ServiceFixture.smallJob(name, 1, 128));
                    List<JobEvent> events = ServiceFixture.watchAll(stub, id);
                    for (int i = 0; i < events.size(); i++) {
                        assertEquals(i + 1, events.get(i).getSequence());
                    }
                    assertTrue(events.get(0).hasSnapshot());
                    Job done = events.get(events.size() - 1).getFinished();
                    assertEquals(name, done.getName());
                    return done;
                }));
            }
            go.countDown();
            Set<String> ids = new HashSet<>();
            for (Future<Job> f : results) {
                Job done = f.get(120, TimeUnit.SECONDS);
                assertEquals(JobState.SUCCEEDED, done.getState(), done.getId() + ": " + done.getReason());
                assertEquals(1, done.getEpochsDone());
                ids.add(done.getId());
            }
            clients.shutdown();
            double seconds = (System.nanoTime() - start) / 1e9;
            assertEquals(CLIENTS, ids.size(), "every job has its own id");
            List<Job> listed = withDeadline(fx.stub()).listJobs(ListJobsRequest.getDefaultInstance()).getJobsList();
            assertEquals(ids, new HashSet<>(listed.stream().map(Job::getId).toList()));
            System.out.printf("%d clients: %d jobs submitted, watched and finished in %.1f s%n", CLIENTS, ids.size(),
                    seconds);
        }
    }
}
