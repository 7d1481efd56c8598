package io.parallax.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.worker.job.InvalidJobException;
import io.parallax.worker.job.JobPlan;
import io.parallax.worker.plane.TensorPlane;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A worker that runs out of memory preparing a job answers with the reason, closes what it
 * opened for the job and stays up for the next command, instead of leaving its JVM to Akka's
 * fatal-error exit (the coordinator then only heard that the worker left).
 */
class WorkerOutOfMemoryTest {

    private static final ActorTestKit KIT = ActorTestKit.create();

    @AfterAll
    static void stop() {
        KIT.shutdownTestKit();
    }

    @Test
    void runningOutOfMemoryPreparingAJobIsAnAnswerAndTheWorkerStays() {
        AtomicInteger plans = new AtomicInteger();
        AtomicInteger opened = new AtomicInteger();
        AtomicInteger closed = new AtomicInteger();
        WorkerEnvironment env = new WorkerEnvironment() {
            @Override
            public Backend backend() {
                return Backends.cpu();
            }

            @Override
            public List<Path> dataRoots() {
                return List.of();
            }

            @Override
            public TensorPlane connect(String host, int port) {
                opened.incrementAndGet();
                return new TensorPlane() {
                    @Override
                    public float[] fetchState(String jobId, long version, float[] reuse) {
                        throw new UnsupportedOperationException();
                    }

                    @Override
                    public void pushGradient(String jobId, long step, int attempt, String worker, float[] gradient) {
                        throw new UnsupportedOperationException();
                    }

                    @Override
                    public void close() {
                        closed.incrementAndGet();
                    }
                };
            }

            @Override
            public JobPlan plan(String jobJson) {
                // what reading a data set larger than the heap throws
                if (plans.incrementAndGet() == 1) {
                    throw new OutOfMemoryError("Java heap space");
                }
                throw InvalidJobException.of("data", "a second answer, from a worker still up");
            }
        };
        ActorRef<WorkerActor.Command> worker = KIT.spawn(WorkerActor.create("w0", env));
        TestProbe<WorkerActor.Reply> replies = KIT.createTestProbe();
        TestProbe<WorkerActor.GradientLost> lost = KIT.createTestProbe();

        worker.tell(new WorkerActor.PrepareJob("job-1", "{}", "127.0.0.1", 1, lost.getRef(), replies.getRef()));
        WorkerActor.WorkFailed failed = assertInstanceOf(WorkerActor.WorkFailed.class, replies.receiveMessage());
        assertEquals("prepare", failed.command());
        assertTrue(failed.message().startsWith("out of memory loading the job's data and model (Java heap space; "
                + "this worker's JVM may use "), failed.message());
        assertTrue(failed.message().contains("JAVA_OPTS=-Xmx"), failed.message());
        assertFalse(failed.jobFault(), "a worker with more memory can do it");
        assertEquals(1, opened.get());
        assertEquals(1, closed.get(), "the plane opened for the job is closed");

        worker.tell(new WorkerActor.PrepareJob("job-2", "{}", "127.0.0.1", 1, lost.getRef(), replies.getRef()));
        WorkerActor.WorkFailed second = assertInstanceOf(WorkerActor.WorkFailed.class, replies.receiveMessage());
        assertTrue(second.message().contains("a second answer, from a worker still up"), second.message());
        assertEquals(2, closed.get());
    }
}
