package io.parallax.deploy;

import io.parallax.coordinator.JobListener;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * What a one-process run ({@code local}, {@code demo}, {@code train}) does on Ctrl-C or SIGTERM:
 * it asks the run to stop after its current step, gives it a few seconds to close its files (the
 * metrics are whole lines already; the chart is drawn at close), and then says on stderr how far
 * it got and that no model was written — instead of ending without a word. Listens to the run's
 * epochs to know how far that is. Close it when the run has ended and its files are closed.
 */
final class RunInterruption implements JobListener, AutoCloseable {

    /** How long the signal waits for the run to stop and close its files. */
    private static final long CLOSE_WAIT_SECONDS = 15;

    private final String outputs;
    private final Supplier<String> resume;
    private final Runnable stop;
    /** Set when the run ended whole, its outputs written: what to say of them then. */
    private volatile String completed;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Thread hook = new Thread(this::onSignal, "trainer-interrupted");
    private volatile int epochsDone;
    private volatile boolean interrupted;

    /**
     * @param outputs where the epochs done can be found, for the message ("" if nowhere)
     * @param stop    asks the run to stop after its current step; null when it cannot be asked
     *                (the message then comes at once)
     */
    RunInterruption(String outputs, Runnable stop) {
        this(outputs, () -> "", stop);
    }

    /**
     * @param resume how to go on from here, appended to the message ("" if there is no way);
     *               asked when the message is written
     */
    RunInterruption(String outputs, Supplier<String> resume, Runnable stop) {
        this.outputs = outputs;
        this.resume = resume;
        this.stop = stop;
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Whether a signal is stopping the run (the run's own cancellation is then no error to report). */
    boolean interrupted() {
        return interrupted;
    }

    @Override
    public void onEpoch(EpochReport r) {
        epochDone(r.epoch());
    }

    /** Epoch {@code epoch} (1-based) is done. */
    void epochDone(int epoch) {
        epochsDone = epoch;
    }

    /**
     * The run ended whole and its outputs are written ({@code outputsSaid}, e.g. "the model is
     * in m.safetensors", or ""): a signal from now on stops nothing and must not say otherwise.
     */
    void completed(String outputsSaid) {
        completed = outputsSaid;
    }

    private void onSignal() {
        if (closed.getCount() == 0) {
            return; // the run had ended: an ordinary exit
        }
        interrupted = true;
        if (stop != null) {
            stop.run();
            try {
                closed.await(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        System.out.flush();
        String done = completed;
        if (done != null) {
            System.err.println("trainer: interrupted after the run ended, all " + epochsDone + " epoch(s) done"
                    + (done.isEmpty() ? "" : "; " + done));
            return;
        }
        String how = resume.get();
        System.err.println("trainer: interrupted after " + epochsDone + " epoch(s); no model was written"
                + (outputs.isEmpty() ? "" : " (the epochs done are in " + outputs + ")")
                + (how.isEmpty() ? "" : "; " + how));
    }

    @Override
    public void close() {
        closed.countDown();
        if (!interrupted) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is exiting already
            }
        }
    }
}
