package io.parallax.deploy.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.parallax.proto.v1.StepProgress;
import org.junit.jupiter.api.Test;

class ProgressBarTest {

    private static StepProgress step(long done, long of, double loss, double samplesPerSecond, double secondsLeft) {
        return StepProgress.newBuilder().setEpoch(3).setStepInEpoch(done).setStepsInEpoch(of).setLoss(loss)
                .setSamplesPerSecond(samplesPerSecond).setEpochSecondsLeft(secondsLeft).build();
    }

    @Test
    void aBarShowsTheEpochItsShareDoneAndTheLiveFigures() {
        assertEquals("epoch 3/10 [=============>                ]  45%  loss 0.4321  acc 0.8712  1,234 samples/s  0:12 left",
                ProgressBar.render(step(45, 100, 0.43214, 1234.4, 12.4), 10, 0.8712, 30));
    }

    @Test
    void theBarFillsFromAnArrowToFull() {
        assertEquals("epoch 3/10 [>         ]   0%  loss 2.3026  acc -  0 samples/s  --:-- left",
                ProgressBar.render(step(0, 469, 2.302585, 0, Double.NaN), 10, Double.NaN, 10));
        assertEquals("epoch 3/10 [=========>]  99%  loss 0.1000  acc 0.9000  60,000 samples/s  0:00 left",
                ProgressBar.render(step(465, 469, 0.1, 60_000, 0.2), 10, 0.9, 10));
        assertEquals("epoch 3 [==========] 100%  loss 0.1000  acc 0.9000  60,000 samples/s  0:00 left",
                ProgressBar.render(step(469, 469, 0.1, 60_000, 0), 0, 0.9, 10));
    }

    @Test
    void barCellsAreTheFloorOfTheShareDone() {
        assertEquals("[>   ]", ProgressBar.bar(0.24, 4));
        assertEquals("[=>  ]", ProgressBar.bar(0.25, 4));
        assertEquals("[===>]", ProgressBar.bar(0.99, 4));
        assertEquals("[====]", ProgressBar.bar(1.0, 4));
        assertEquals("[====]", ProgressBar.bar(1.5, 4));
        assertEquals("[>   ]", ProgressBar.bar(-1, 4));
        assertThrows(IllegalArgumentException.class, () -> ProgressBar.render(step(1, 2, 0, 0, 0), 1, 0, 0));
    }

    @Test
    void timeLeftIsMinutesAndSecondsOrHours() {
        assertEquals("0:00", ProgressBar.duration(0.4));
        assertEquals("0:59", ProgressBar.duration(59.4));
        assertEquals("1:00", ProgressBar.duration(59.6));
        assertEquals("59:59", ProgressBar.duration(3599));
        assertEquals("1:02:03", ProgressBar.duration(3723));
        assertEquals("--:--", ProgressBar.duration(-1));
        assertEquals("--:--", ProgressBar.duration(Double.POSITIVE_INFINITY));
    }

    @Test
    void anUnknownEpochSizeShowsNoProgressRatherThanDividingByZero() {
        assertEquals(0, ProgressBar.fraction(5, 0));
        assertEquals(0.5, ProgressBar.fraction(5, 10));
        assertEquals(1, ProgressBar.fraction(12, 10));
    }
}
