package io.parallax.deploy.client;

import io.parallax.proto.v1.StepProgress;
import java.util.Locale;

/**
 * The one-line progress bar of a running epoch, as a pure function of the latest step, so it can
 * be tested without a terminal:
 *
 * <pre>
 * epoch 3/10 [=============&gt;                ]  45%  loss 0.4321  acc 0.8712  1,234 samples/s  0:12 left
 * </pre>
 *
 * {@code acc} is the validation accuracy of the last completed epoch ({@code -} before the first
 * or without validation data); {@code left} is the time left in the epoch at the current rate.
 */
public final class ProgressBar {

    /** Cells between the brackets when the caller has no better idea. */
    public static final int DEFAULT_WIDTH = 30;

    private ProgressBar() {}

    /**
     * @param step        the latest step
     * @param epochsTotal the job's epochs, or 0 if not known
     * @param accuracy    the last validation accuracy in [0, 1], or NaN for none yet
     * @param width       cells of the bar, ≥ 1
     */
    public static String render(StepProgress step, int epochsTotal, double accuracy, int width) {
        if (width < 1) {
            throw new IllegalArgumentException("the bar needs at least 1 cell, got " + width);
        }
        double fraction = fraction(step.getStepInEpoch(), step.getStepsInEpoch());
        return String.format(Locale.ROOT, "%s %s %3d%%  loss %s  acc %s  %s samples/s  %s left",
                epoch(step.getEpoch(), epochsTotal), bar(fraction, width), (int) Math.floor(fraction * 100),
                number(step.getLoss()), number(accuracy), rate(step.getSamplesPerSecond()),
                duration(step.getEpochSecondsLeft()));
    }

    /** {@code [====>     ]}: {@code floor(fraction × width)} cells done, an arrow head while not complete. */
    static String bar(double fraction, int width) {
        int done = (int) Math.floor(Math.max(0, Math.min(1, fraction)) * width);
        StringBuilder sb = new StringBuilder(width + 2).append('[');
        for (int i = 0; i < width; i++) {
            sb.append(i < done ? '=' : i == done ? '>' : ' ');
        }
        return sb.append(']').toString();
    }

    /** Steps done over the epoch's steps, in [0, 1]; 0 when the epoch's size is unknown. */
    static double fraction(long done, long total) {
        return total <= 0 ? 0 : Math.max(0, Math.min(1, (double) done / total));
    }

    /** {@code epoch 3/10}, or {@code epoch 3} when the total is unknown. */
    static String epoch(int epoch, int epochsTotal) {
        return epochsTotal > 0 ? "epoch " + epoch + "/" + epochsTotal : "epoch " + epoch;
    }

    /** Four decimals, or {@code -} for NaN (no value yet). */
    static String number(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }

    /** Samples per second with thousands separators, no decimals. */
    static String rate(double samplesPerSecond) {
        return Double.isFinite(samplesPerSecond) && samplesPerSecond >= 0
                ? String.format(Locale.ROOT, "%,.0f", samplesPerSecond) : "-";
    }

    /** {@code m:ss} below an hour, {@code h:mm:ss} above; {@code --:--} when not known. */
    static String duration(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) {
            return "--:--";
        }
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
