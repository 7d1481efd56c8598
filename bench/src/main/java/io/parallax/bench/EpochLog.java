package io.parallax.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One training run's log in the format {@code ../shared/baselines/torch_fmnist.py} prints and
 * {@link TrainBench} copies: a header line (torch or parallax, threads, wait policy, core type)
 * and, per epoch, the training loop's samples/s and the test accuracy after the epoch.
 */
record EpochLog(String header, double[] samplesPerSecond, double[] acc) {

    private static final Pattern EPOCH = Pattern.compile(
            "epoch (\\d+): .*test_acc=([0-9.]+) .*samples_per_s=([0-9.]+)");

    /** Parses a log, or fails naming the file when it holds no epoch line. */
    static EpochLog read(Path log) throws IOException {
        String header = "";
        List<double[]> epochs = new ArrayList<>();
        for (String line : Files.readAllLines(log)) {
            if (line.startsWith("torch ") || line.startsWith("parallax ")) {
                header = line.trim();
            }
            Matcher m = EPOCH.matcher(line);
            if (m.find()) {
                epochs.add(new double[] {Double.parseDouble(m.group(3)), Double.parseDouble(m.group(2))});
            }
        }
        if (epochs.isEmpty()) {
            throw new IOException(log + " holds no 'epoch N: ... samples_per_s=' line");
        }
        double[] rate = new double[epochs.size()];
        double[] acc = new double[epochs.size()];
        for (int i = 0; i < rate.length; i++) {
            rate[i] = epochs.get(i)[0];
            acc[i] = epochs.get(i)[1];
        }
        return new EpochLog(header, rate, acc);
    }
}
