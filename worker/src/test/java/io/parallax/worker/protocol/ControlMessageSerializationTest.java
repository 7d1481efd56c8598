package io.parallax.worker.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRef;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializer;
import akka.serialization.Serializers;
import io.parallax.worker.WorkerActor;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every message between coordinator and workers crosses the network in a cluster: each must go
 * through the Jackson CBOR binding of {@link ControlMessage} (never Java serialization, which is
 * off) and come back equal, actor references included. Without this, a field Jackson cannot
 * handle would only show in the multi-process integration tests.
 */
class ControlMessageSerializationTest {

    private static ActorTestKit kit;

    @BeforeAll
    static void start() {
        kit = ActorTestKit.create();
    }

    @AfterAll
    static void stop() {
        kit.shutdownTestKit();
    }

    private static Object roundTrip(Object message) throws Exception {
        Serialization serialization = SerializationExtension.get(kit.system().classicSystem());
        Serializer serializer = serialization.findSerializerFor(message);
        assertTrue(serializer.getClass().getSimpleName().contains("Jackson"),
                message.getClass().getSimpleName() + " would go through " + serializer.getClass().getName());
        byte[] bytes = serialization.serialize(message).get();
        String manifest = Serializers.manifestFor(serializer, message);
        return serialization.deserialize(bytes, serializer.identifier(), manifest).get();
    }

    @Test
    void everyWorkerMessageRoundTripsThroughJackson() throws Exception {
        ActorRef<WorkerActor.Reply> replyTo = kit.<WorkerActor.Reply>createTestProbe().ref();
        ActorRef<WorkerActor.GradientLost> lostTo = kit.<WorkerActor.GradientLost>createTestProbe().ref();
        List<Object> records = List.of(
                new WorkerActor.PrepareJob("job-1", "{\"name\": \"x\"}", "10.0.0.5", 50051, lostTo, replyTo),
                new WorkerActor.Evaluate("job-1", 7, 100, 50, replyTo),
                new WorkerActor.EndJob("job-1"),
                new WorkerActor.JobPrepared("job-1", "w0", 235_146, 0x1234_5678_9abcL),
                new WorkerActor.GradientComputed("job-1", 3, 1, "w0", 12.5, 60, 64, 10, 20, 30, 940_584),
                new WorkerActor.Evaluated("job-1", 7, 100, "w0", 3.25, 45, 50),
                new WorkerActor.WorkFailed("job-1", "w0", "compute", "the model diverged", true),
                new WorkerActor.WorkFailed("job-1", "w1", "compute", "plane unavailable", false),
                new WorkerActor.GradientLost("job-1", 3, 1, "w1", "UNAVAILABLE: io exception"));
        for (Object m : records) {
            assertEquals(m, roundTrip(m), m.getClass().getSimpleName());
        }
        // a record with an array compares arrays by identity: check its fields
        WorkerActor.ComputeGradient compute = new WorkerActor.ComputeGradient("job-1", 4, 0, 4, 2,
                new int[] {5, 9, 1_000_000}, replyTo);
        WorkerActor.ComputeGradient back = (WorkerActor.ComputeGradient) roundTrip(compute);
        assertEquals(List.of(compute.jobId(), compute.step(), compute.attempt(), compute.version(), compute.epoch(),
                compute.replyTo()), List.of(back.jobId(), back.step(), back.attempt(), back.version(), back.epoch(),
                back.replyTo()));
        assertArrayEquals(compute.rows(), back.rows());
    }
}
