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
        // a change just now: wait until it has been quiet for 500 ms, a second change restarts it.
        // On a loaded machine the second change may come late, after the wait ended: tried again
        boolean seen = false;
        for (int attempt = 0; attempt < 5 && !seen; attempt++) {
            long[] secondChange = {Long.MAX_VALUE};
            live.set(List.of());
            Thread worker = new Thread(() -> {
                try {
                    Thread.sleep(300);
                    secondChange[0] = System.nanoTime();
                    live.set(List.of());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            t0 = System.nanoTime();
            worker.start();
            live.awaitSettled(500, 5000);
            long returned = System.nanoTime();
            worker.join();
            if (secondChange[0] < returned - 50_000_000L) {
                seen = true;
                double quiet = (returned - secondChange[0]) / 1e6;
                assertTrue(quiet >= 450, "returned " + quiet + " ms after the second change: 500 of quiet expected");
            }
        }
        assertTrue(seen, "the second change never came within the wait");
        // never past the timeout
        live.set(List.of());
        t0 = System.nanoTime();
        live.awaitSettled(5000, 200);
        double waited = (System.nanoTime() - t0) / 1e6;
        assertTrue(waited >= 150 && waited < 2000, "waited " + waited + " ms");
    }
}
