package io.parallax.deploy.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobEvent;
import io.parallax.proto.v1.JobState;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class WatchPrinterTest {

    private final StringWriter text = new StringWriter();
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);

    private WatchPrinter printer(WatchPrinter.Style style) {
        return new WatchPrinter(new PrintWriter(text), style, clock::get);
    }

    @Test
    void plainOutputIsALinePerEpochAndPerTenthOfAnEpoch() {
        WatchPrinter p = printer(WatchPrinter.Style.PLAIN);
        FakeJobService.story("job-1", 2, 4, JobState.SUCCEEDED, "").forEach(p::accept);
        assertEquals(String.join("\n",
                "job-1 (story): QUEUED, next in the queue",
                "state RUNNING",
                "epoch 1/2   20%  step 1/4  loss 0.4000  1,000 samples/s  0:02 left",
                "epoch 1/2   50%  step 2/4  loss 0.3333  1,000 samples/s  0:01 left",
                "epoch 1/2   70%  step 3/4  loss 0.2857  1,000 samples/s  0:01 left",
                "epoch 1/2  train_loss 1.0000  val_loss 1.1000  val_accuracy 0.6000  lr 0.00100  12,346 samples/s  2 worker(s)  2.5 s elapsed",
                "epoch 2/2   20%  step 1/4  loss 0.2222  1,000 samples/s  0:02 left",
                "epoch 2/2   50%  step 2/4  loss 0.2000  1,000 samples/s  0:01 left",
                "epoch 2/2   70%  step 3/4  loss 0.1818  1,000 samples/s  0:01 left",
                "epoch 2/2  train_loss 0.5000  val_loss 0.5500  val_accuracy 0.7000  lr 0.00100  12,346 samples/s  2 worker(s)  5.0 s elapsed",
                "job-1 SUCCEEDED after 2 epoch(s) in 12.5 s: train_loss 0.5000  val_accuracy 0.7000",
                ""), text.toString().replace(System.lineSeparator(), "\n"));
        assertEquals(JobState.SUCCEEDED, p.state());
        assertTrue(p.finished());
    }

    @Test
    void aResumedJobIsTimedFromItsFirstStartAndSaysSo() {
        WatchPrinter p = printer(WatchPrinter.Style.PLAIN);
        FakeJobService.story("job-1", 2, 4, JobState.SUCCEEDED, "").stream().map(e -> e.hasFinished()
                ? e.toBuilder().setFinished(e.getFinished().toBuilder().setResumedAtMs(1_700_000_009_000L)).build()
                : e).forEach(p::accept);
        assertTrue(text.toString().contains("job-1 SUCCEEDED after 2 epoch(s) in 12.5 s (from its first start; it "
                + "resumed from a checkpoint): train_loss"), text.toString());
    }

    @Test
    void aJobThatEndedWithACheckpointKeptSaysHowToResumeIt() {
        for (long step : new long[] {4, 6}) {
            text.getBuffer().setLength(0);
            WatchPrinter p = printer(WatchPrinter.Style.PLAIN);
            FakeJobService.story("job-1", 2, 4, JobState.FAILED, "no worker joined within 60 s").stream()
                    .map(e -> e.hasFinished() ? e.toBuilder().setFinished(e.getFinished().toBuilder()
                            .setStepsTotal(8).setCheckpointStep(step)).build() : e).forEach(p::accept);
            assertTrue(text.toString().replace(System.lineSeparator(), "\n").endsWith("job-1 FAILED: no worker joined "
                    + "within 60 s\nits checkpoint " + (step == 4 ? "after epoch 1" : "in epoch 2, after its step 2 of 4")
                    + " is kept: 'trainer resume job-1' goes on from there\n"), text.toString());
        }
    }

    @Test
    void aJobCancelledWithItsModelSaysHowToFetchIt() {
        WatchPrinter p = printer(WatchPrinter.Style.PLAIN);
        String reason = "cancelled while running (cancelled after 6 step(s)); its model holds the weights of its last step";
        FakeJobService.story("job-1", 2, 4, JobState.CANCELLED, reason).stream()
                .map(e -> e.hasFinished() ? e.toBuilder().setFinished(e.getFinished().toBuilder()
                        .setStepsTotal(8).setCheckpointStep(6).setModelAvailable(true)).build() : e).forEach(p::accept);
        assertTrue(text.toString().replace(System.lineSeparator(), "\n").endsWith("job-1 CANCELLED: " + reason
                + "\nits checkpoint in epoch 2, after its step 2 of 4 is kept: 'trainer resume job-1' goes on from there"
                + "\nits model: 'trainer model job-1 --out FILE'\n"), text.toString());
        assertEquals(JobState.CANCELLED, p.state());
    }

    /** A reader that went away ({@code watch | head}) ends the watch at the next event instead of streaming into nothing. */
    @Test
    void anOutputThatCannotBeWrittenEndsTheWatch() {
        java.io.OutputStream closedPipe = new java.io.OutputStream() {
            @Override
            public void write(int b) throws java.io.IOException {
                throw new java.io.IOException("Broken pipe");
            }
        };
        WatchPrinter p = new WatchPrinter(new PrintWriter(closedPipe), WatchPrinter.Style.PLAIN, clock::get);
        List<io.parallax.proto.v1.JobEvent> story = FakeJobService.story("job-1", 2, 4, JobState.SUCCEEDED, "");
        assertThrows(WatchPrinter.OutputClosed.class, () -> story.forEach(p::accept));
    }

    @Test
    void aLongEpochGetsNineProgressLines() {
        WatchPrinter p = printer(WatchPrinter.Style.PLAIN);
        FakeJobService.story("job-1", 1, 469, JobState.SUCCEEDED, "").forEach(p::accept);
        List<String> progress = text.toString().lines().filter(l -> l.contains("% ")).toList();
        assertEquals(9, progress.size(), text.toString());
        for (int i = 0; i < 9; i++) {
            assertTrue(progress.get(i).startsWith(String.format("epoch 1/1   %d%%  step %d/469", (i + 1) * 10,
                    (int) Math.ceil(469 * (i + 1) / 10.0))), progress.get(i));
        }
    }

    @Test
    void aWatchThatStartsLateIsToldTheJobsLatestNoteAndStatusShowsIt() {
        Job running = Job.newBuilder().setId("job-7").setName("waits").setState(JobState.RUNNING).setEpochsTotal(3)
                .setLastNote("waiting up to 60 s for 5 worker(s); 2 live").build();
        WatchPrinter p = printer(WatchPrinter.Style.PLAIN);
        p.accept(JobEvent.newBuilder().setSnapshot(running).build());
        assertEquals("job-7 (waits): RUNNING\nnote: waiting up to 60 s for 5 worker(s); 2 live\n",
                text.toString().replace(System.lineSeparator(), "\n"));
        assertTrue(StatusCommand.record(running).lines()
                .anyMatch(l -> l.matches("note +waiting up to 60 s for 5 worker\\(s\\); 2 live")),
                StatusCommand.record(running));
        // told a while ago: status says when, so that an old note is not read as news
        String aged = StatusCommand.record(running.toBuilder().setLastNoteAtMs(System.currentTimeMillis() - 125_000)
                .build());
        assertTrue(aged.lines().anyMatch(l -> l.matches("note +waiting up to 60 s for 5 worker\\(s\\); 2 live "
                + "\\(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ, 2 min [5-9] s ago\\)")), aged);
        assertEquals("42 s", StatusCommand.age(42_400));
        assertEquals("2 h 10 min", StatusCommand.age((2 * 3600 + 600 + 7) * 1000L));
        // an ended job's reason says it all
        assertTrue(StatusCommand.record(running.toBuilder().setState(JobState.SUCCEEDED).build()).lines()
                .noneMatch(l -> l.startsWith("note")));
        // a cancelled one's last note is history: timed against its end, not now
        long end = System.currentTimeMillis() - 3_600_000;
        String cancelled = StatusCommand.record(running.toBuilder().setState(JobState.CANCELLED)
                .setLastNote("resuming from the checkpoint in epoch 12, after its step 63")
                .setLastNoteAtMs(end - 22_000).setFinishedAtMs(end).build());
        assertTrue(cancelled.lines().anyMatch(l -> l.matches("last note +resuming from the checkpoint in epoch 12, "
                + "after its step 63 \\(\\d{4}-\\d\\d-\\d\\dT[0-9:]{8}Z, 22 s before it ended\\)")), cancelled);
    }

    @Test
    void statusSaysWhenAJobRanOnFewerWorkersThanItAskedFor() {
        Job asked = Job.newBuilder().setId("job-8").setState(JobState.SUCCEEDED).setEpochsTotal(1).setWorkers(1)
                .setSpec(io.parallax.proto.v1.JobSpec.newBuilder().setWorkers(2)).build();
        assertTrue(StatusCommand.record(asked).lines().anyMatch(l -> l.matches(
                "workers +1 of the 2 the job asked for \\(at its last step; the coordinator's log says why\\)")),
                StatusCommand.record(asked));
        assertTrue(StatusCommand.record(asked.toBuilder().setState(JobState.RUNNING).build()).lines()
                .anyMatch(l -> l.matches("workers +1 of the 2 the job asked for")));
        // every live worker (0), or as many as it asked for: the count alone
        assertTrue(StatusCommand.record(asked.toBuilder().setWorkers(2).build()).lines()
                .anyMatch(l -> l.matches("workers +2")));
        assertTrue(StatusCommand.record(asked.toBuilder().setSpec(io.parallax.proto.v1.JobSpec.getDefaultInstance())
                .build()).lines().anyMatch(l -> l.matches("workers +1")));
    }

    @Test
    void aNoteFromTheCoordinatorIsALineOfItsOwnEvenAcrossTheBar() {
        WatchPrinter p = printer(WatchPrinter.Style.BAR);
        List<JobEvent> story = FakeJobService.story("job-1", 1, 4, JobState.SUCCEEDED, "");
        story.subList(0, 3).forEach(p::accept);
        p.accept(JobEvent.newBuilder().setNote("step 1: redoing without [w1]").build());
        String out = text.toString().replace(System.lineSeparator(), "\n");
        // the bar drawn before it is wiped (carriage return, spaces, carriage return) first
        assertTrue(out.contains("\repoch 1/1 [") && out.endsWith(" \rnote: step 1: redoing without [w1]\n"), out);
    }

    @Test
    void watchingARunningJobFirstShowsTheEpochsItAlreadyFinished() {
        Job running = FakeJobService.job("job-2", "", JobState.RUNNING, 2, 5).toBuilder()
                .addEpochs(FakeJobService.epoch(1, 0.8, 0.7)).addEpochs(FakeJobService.epoch(2, 0.6, 0.75)).build();
        WatchPrinter p = printer(WatchPrinter.Style.PLAIN);
        p.accept(JobEvent.newBuilder().setSnapshot(running).build());
        List<String> lines = text.toString().lines().toList();
        assertEquals(List.of("job-2: RUNNING", WatchPrinter.epochLine(running.getEpochs(0), 5),
                WatchPrinter.epochLine(running.getEpochs(1), 5)), lines);
        assertEquals(JobState.RUNNING, p.state());
    }

    @Test
    void theBarIsRedrawnInPlaceAtMostTenTimesASecondAndGivesWayToTheEpochLine() {
        WatchPrinter p = printer(WatchPrinter.Style.BAR);
        List<JobEvent> events = FakeJobService.story("job-1", 1, 4, JobState.SUCCEEDED, "");
        p.accept(events.get(0));
        p.accept(events.get(1));
        text.getBuffer().setLength(0);

        p.accept(events.get(2)); // step 1: the first draw
        p.accept(events.get(3)); // step 2, same instant: skipped
        clock.addAndGet(WatchPrinter.REDRAW_NANOS);
        p.accept(events.get(4)); // step 3, 100 ms later: drawn
        p.accept(events.get(5)); // step 4, the epoch's last: always drawn
        String bar1 = ProgressBar.render(events.get(2).getStep(), 1, Double.NaN, ProgressBar.DEFAULT_WIDTH);
        String bar3 = ProgressBar.render(events.get(4).getStep(), 1, Double.NaN, ProgressBar.DEFAULT_WIDTH);
        String bar4 = ProgressBar.render(events.get(5).getStep(), 1, Double.NaN, ProgressBar.DEFAULT_WIDTH);
        assertEquals(bar1.length(), bar3.length(), "same-width bars need no padding");
        assertEquals("\r" + bar1 + "\r" + bar3 + "\r" + bar4, text.toString());

        text.getBuffer().setLength(0);
        p.accept(events.get(6)); // the epoch's metrics replace the bar
        assertEquals("\r" + " ".repeat(bar4.length()) + "\r"
                + WatchPrinter.epochLine(events.get(6).getEpoch(), 1) + System.lineSeparator(), text.toString());
    }

    @Test
    void aShorterBarPadsOverTheLongerOneAndABrokenStreamEndsTheLine() {
        WatchPrinter p = printer(WatchPrinter.Style.BAR);
        JobEvent fast = JobEvent.newBuilder().setStep(FakeJobService.step(1, 1, 10, 1, 0.5).toBuilder()
                .setSamplesPerSecond(123_456)).build();
        JobEvent slow = JobEvent.newBuilder().setStep(FakeJobService.step(1, 2, 10, 1, 0.5).toBuilder()
                .setSamplesPerSecond(12)).build();
        p.accept(fast);
        clock.addAndGet(WatchPrinter.REDRAW_NANOS);
        p.accept(slow);
        p.end();
        String a = ProgressBar.render(fast.getStep(), 0, Double.NaN, ProgressBar.DEFAULT_WIDTH);
        String b = ProgressBar.render(slow.getStep(), 0, Double.NaN, ProgressBar.DEFAULT_WIDTH);
        assertEquals("\r" + a + "\r" + b + " ".repeat(a.length() - b.length()) + System.lineSeparator(), text.toString());
    }
}
