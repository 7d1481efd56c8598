package io.parallax.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FatalErrorsTest {

    @Test
    void anErrorEscapingAThreadHaltsTheNodeWithAkkasCodeAndAnExceptionDoesNot() throws Exception {
        List<Integer> halted = new ArrayList<>();
        Thread.UncaughtExceptionHandler handler = FatalErrors.handler("coordinator", halted::add);
        // what a job queue's thread died of when its jar was replaced under it
        escape(handler, new NoClassDefFoundError("io/parallax/coordinator/service/JobProgress"));
        assertEquals(List.of(255), halted);
        escape(handler, new IllegalStateException("a bug that part of the node handles"));
        assertEquals(List.of(255), halted, "an exception is printed only");
        escape(handler, new OutOfMemoryError("Java heap space"));
        assertEquals(List.of(255, 255), halted);
    }

    private static void escape(Thread.UncaughtExceptionHandler handler, Throwable e) throws InterruptedException {
        Thread t = new Thread(() -> {
            if (e instanceof Error err) {
                throw err;
            }
            throw (RuntimeException) e;
        }, "job-queue");
        t.setUncaughtExceptionHandler(handler);
        t.start();
        t.join();
    }
}
