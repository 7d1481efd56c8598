package io.parallax.coordinator;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class LiveWorkersTest {

    @Test
    void settlingWaitsOnlyWhileWorkersAreStillComing() throws Exception {
        WorkerRegistry.LiveWorkers live = new WorkerRegistry.LiveWorkers();
        // nothing changed lately: no wait
        long t0 = System.nanoTime();
        live.awaitSettled(500, 5000);
        assertTrue((System.nanoTime() - t0) / 1e6 < 250, "returned at once");
        // a change just now: wait until it has been quiet for 500 ms, a second change restarts it
        live.set(List.of());
        Thread worker = new Thread(() -> {
            try {
                Thread.sleep(300);
                live.set(List.of());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        t0 = System.nanoTime();
        worker.start();
        live.awaitSettled(500, 5000);
        double waited = (System.nanoTime() - t0) / 1e6;
        worker.join();
        assertTrue(waited >= 750, "waited " + waited + " ms: 300 until the second change, then 500 of quiet");
        // never past the timeout
        live.set(List.of());
        t0 = System.nanoTime();
        live.awaitSettled(5000, 200);
        waited = (System.nanoTime() - t0) / 1e6;
        assertTrue(waited >= 150 && waited < 2000, "waited " + waited + " ms");
    }
}
