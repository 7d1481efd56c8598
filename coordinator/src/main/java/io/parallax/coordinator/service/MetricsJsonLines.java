package io.parallax.coordinator.service;

import io.parallax.coordinator.JobListener;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A job's metrics as JSON lines: one object per epoch with {@code epoch}, {@code train_loss},
 * {@code val_loss}, {@code val_accuracy}, {@code samples_per_second}, {@code elapsed_seconds},
 * {@code learning_rate} and {@code workers}. A figure that is not a number (the validation
 * figures of a job without validation data) is written as {@code null}, since JSON has no NaN.
 * Each line is flushed when written, so the file can be followed while the job runs.
 */
public final class MetricsJsonLines implements JobListener, AutoCloseable {

    /** The file's name in a job's folder. */
    public static final String FILE_NAME = "metrics.jsonl";

    private final BufferedWriter out;

    /** Creates (or truncates) {@code file}. */
    public MetricsJsonLines(Path file) throws IOException {
        this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
    }

    @Override
    public void onEpoch(EpochReport r) {
        String line = String.format(Locale.ROOT, "{\"epoch\":%d,\"train_loss\":%s,\"val_loss\":%s,\"val_accuracy\":%s,"
                        + "\"samples_per_second\":%s,\"elapsed_seconds\":%s,\"learning_rate\":%s,\"workers\":%d}",
                r.epoch(), number(r.trainLoss()), number(r.valLoss()), number(r.valAccuracy()),
                number(r.samplesPerSecond()), number(r.elapsedSeconds()), number(r.learningRate()), r.workers());
        try {
            out.write(line);
            out.newLine();
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String number(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "null";
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
