package io.parallax.engine.concurrent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class RangeRunnerTest {

    @Test
    void everyElementIsVisitedOnceInAlignedParts() {
        try (RangeRunner runner = RangeRunner.of(3, "range-test")) {
            for (int n : new int[] {RangeRunner.MIN_PARALLEL, 100_003, 235_146}) {
                AtomicIntegerArray visits = new AtomicIntegerArray(n);
                List<int[]> parts = java.util.Collections.synchronizedList(new ArrayList<>());
                Set<String> threads = ConcurrentHashMap.newKeySet();
                runner.run(n, (part, from, to) -> {
                    parts.add(new int[] {part, from, to});
                    threads.add(Thread.currentThread().getName());
                    for (int i = from; i < to; i++) {
                        visits.incrementAndGet(i);
                    }
                });
                for (int i = 0; i < n; i++) {
                    assertEquals(1, visits.get(i), "element " + i + " of " + n);
                }
                assertEquals(List.of(0, 1, 2), parts.stream().map(p -> p[0]).sorted().toList());
                assertTrue(threads.size() <= 3, "at most one thread per part: " + threads);
                for (int[] p : parts) {
                    assertEquals(0, p[1] % RangeRunner.ALIGN, "part " + p[0] + " starts at " + p[1]);
                    assertTrue(p[2] - p[1] > n / 4, "parts are about even: " + (p[2] - p[1]) + " of " + n);
                }
            }
        }
    }

    @Test
    void shortLoopsRunOnTheCaller() {
        try (RangeRunner runner = RangeRunner.of(4, "range-test")) {
            List<String> seen = new ArrayList<>();
            runner.run(RangeRunner.MIN_PARALLEL - 1, (part, from, to) -> {
                seen.add(part + ":" + from + "-" + to + ":" + Thread.currentThread().getName());
            });
            assertEquals(List.of("0:0-" + (RangeRunner.MIN_PARALLEL - 1) + ":" + Thread.currentThread().getName()),
                    seen);
        }
    }

    @Test
    void serialRunnerHasNoHelpers() {
        RangeRunner runner = RangeRunner.serial();
        assertEquals(1, runner.threads());
        List<Integer> parts = new ArrayList<>();
        runner.run(1_000_000, (part, from, to) -> parts.add(to - from));
        assertEquals(List.of(1_000_000), parts);
        assertThrows(IllegalArgumentException.class, () -> RangeRunner.of(0, "x"));
    }

    @Test
    void aHelpersFailureIsRethrownOnTheCallerAfterEveryPartEnded() {
        try (RangeRunner runner = RangeRunner.of(2, "range-test")) {
            IllegalStateException boom = new IllegalStateException("boom");
            AtomicIntegerArray finished = new AtomicIntegerArray(2);
            IllegalStateException thrown = assertThrows(IllegalStateException.class,
                    () -> runner.run(100_000, (part, from, to) -> {
                        if (part == 1) {
                            throw boom;
                        }
                        try {
                            Thread.sleep(50);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        finished.set(part, 1);
                    }));
            assertSame(boom, thrown);
            assertEquals(1, finished.get(0));
            // the runner is still usable
            AtomicIntegerArray visits = new AtomicIntegerArray(100_000);
            runner.run(100_000, (part, from, to) -> {
                for (int i = from; i < to; i++) {
                    visits.incrementAndGet(i);
                }
            });
            for (int i = 0; i < 100_000; i++) {
                assertEquals(1, visits.get(i));
            }
        }
    }

    @Test
    void aPartThatLeavesItsInterruptFlagSetDoesNotKeepItsHelperSpinning() throws InterruptedException {
        try (RangeRunner runner = RangeRunner.of(2, "range-interrupt-test")) {
            Thread caller = Thread.currentThread();
            Thread[] helper = new Thread[1];
            // slow parts, so that the helper takes one; it interrupts itself, as the usual
            // catch (InterruptedException e) { Thread.currentThread().interrupt(); } does
            runner.run(65_536, (part, from, to) -> {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                if (Thread.currentThread() != caller) {
                    helper[0] = Thread.currentThread();
                    Thread.currentThread().interrupt();
                }
            });
            runner.rest();
            assertFalse(Thread.interrupted(), "the caller's flag is left alone");
            if (helper[0] != null) {
                Thread.sleep(200);
                assertEquals(Thread.State.WAITING, helper[0].getState(), "the helper parks, not spins");
            }
        }
    }

    @Test
    void helpersThatParkedWakeForTheNextLoopAndCloseStopsThem() throws InterruptedException {
        RangeRunner runner = RangeRunner.of(2, "range-close-test");
        int[] sum = new int[1];
        for (int round = 0; round < 3; round++) {
            Thread.sleep(20); // well past the spin: the helper has parked
            int[] perPart = new int[2];
            runner.run(65_536, (part, from, to) -> perPart[part] = to - from);
            sum[0] += perPart[0] + perPart[1];
            assertEquals(32_768, perPart[1]);
        }
        assertEquals(3 * 65_536, sum[0]);
        Thread helper = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("range-close-test")).findFirst().orElseThrow();
        runner.close();
        helper.join(5_000);
        assertFalse(helper.isAlive(), "the helper thread ends on close");
        assertThrows(IllegalStateException.class, () -> runner.run(65_536, (part, from, to) -> { }));
    }
}
