package io.parallax.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The training-loop table from the round logs {@code bench/run-train-bench.sh} collects:
 * {@code DIR/<setting>/r<round>-b<batch>.log}, each in torch_fmnist.py's per-epoch format. Per
 * setting and batch: epoch 1's samples/s over the rounds (a cold start: the JIT warms up in it)
 * and the later epochs' over rounds × epochs (steady state), as median (min–max), and ours over
 * theirs, of the medians and of the best later epochs (on a loaded machine the best epoch is the
 * one least slowed by other processes, the closest to what each side does alone). Rounds alternate the settings, so a burst of load from other processes hits all
 * of them alike; the min–max spread shows how much the machine's load moved the figures.
 */
final class TrainTable {

    private static final Pattern BATCH = Pattern.compile("r\\d+-b(\\d+)\\.log");

    private TrainTable() {}

    static void print(Path dir, PrintStream out) throws IOException {
        List<Path> settings = new ArrayList<>();
        try (var list = Files.list(dir)) {
            list.filter(Files::isDirectory).sorted().forEach(settings::add);
        }
        settings.sort((a, b) -> Boolean.compare(!isOurs(a), !isOurs(b)));
        if (settings.isEmpty() || !isOurs(settings.get(0))) {
            throw new IOException(dir + " holds no 'ours' directory of round logs");
        }
        TreeSet<Integer> batches = new TreeSet<>();
        for (Path s : settings) {
            try (var files = Files.list(s)) {
                files.forEach(f -> {
                    Matcher m = BATCH.matcher(f.getFileName().toString());
                    if (m.matches()) {
                        batches.add(Integer.parseInt(m.group(1)));
                    }
                });
            }
        }
        out.println("| run | batch | rounds | epoch 1 samples/s, median (min–max) | epochs 2+ samples/s, median "
                + "(min–max) | test acc. after epoch 1 / last (round 1) | ours ÷ this, epoch 1 (medians) "
                + "| ours ÷ this, epochs 2+ (medians) | ours ÷ this, epochs 2+ (bests) |");
        out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        StringBuilder raw = new StringBuilder();
        for (int batch : batches) {
            Runs ours = null;
            for (Path s : settings) {
                Runs r = Runs.read(s, batch);
                if (r == null) {
                    continue;
                }
                if (ours == null) {
                    ours = r;
                }
                String ratio1 = r == ours ? "–" : String.format(Locale.ROOT, "%.2f", ours.first() / r.first());
                String ratio2 = r == ours || Double.isNaN(r.later()) ? "–"
                        : String.format(Locale.ROOT, "%.2f", ours.later() / r.later());
                String ratio3 = r == ours || Double.isNaN(r.later()) ? "–"
                        : String.format(Locale.ROOT, "%.2f", ours.bestLater() / r.bestLater());
                out.printf(Locale.ROOT, "| %s | %d | %d | %s | %s | %.4f / %.4f | %s | %s | %s |%n", label(s), batch,
                        r.rounds.size(), spread(r.firstEpochs()), spread(r.laterEpochs()), r.rounds.get(0).acc()[0],
                        r.rounds.get(0).acc()[r.rounds.get(0).acc().length - 1], ratio1, ratio2, ratio3);
                raw.append(String.format(Locale.ROOT, "  %s, batch %d:", label(s), batch));
                for (EpochLog round : r.rounds) {
                    raw.append(" [");
                    for (int e = 0; e < round.samplesPerSecond().length; e++) {
                        raw.append(e == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.0f",
                                round.samplesPerSecond()[e]));
                    }
                    raw.append(']');
                }
                raw.append('\n');
            }
        }
        out.println();
        out.println("samples/s per round, [epoch 1 epoch 2 ...]:");
        out.print(raw);
    }

    private static boolean isOurs(Path setting) {
        return setting.getFileName().toString().equals("ours");
    }

    private static String label(Path setting) throws IOException {
        Path f = setting.resolve("label");
        return Files.exists(f) ? Files.readString(f).trim() : setting.getFileName().toString();
    }

    private static String spread(double[] xs) {
        if (xs.length == 0) {
            return "–";
        }
        return String.format(Locale.ROOT, "%,.0f (%,.0f–%,.0f)", Repetitions.median(xs),
                Arrays.stream(xs).min().orElse(0), Arrays.stream(xs).max().orElse(0));
    }

    /** The rounds of one setting at one batch size. */
    private record Runs(List<EpochLog> rounds) {

        static Runs read(Path setting, int batch) throws IOException {
            List<EpochLog> rounds = new ArrayList<>();
            for (Path log : TrainBench.logs(setting, batch)) {
                rounds.add(EpochLog.read(log));
            }
            return rounds.isEmpty() ? null : new Runs(rounds);
        }

        double[] firstEpochs() {
            return rounds.stream().mapToDouble(r -> r.samplesPerSecond()[0]).toArray();
        }

        double[] laterEpochs() {
            return rounds.stream().flatMapToDouble(r -> Arrays.stream(r.samplesPerSecond()).skip(1)).toArray();
        }

        double first() {
            return Repetitions.median(firstEpochs());
        }

        /** The fastest later epoch: the one least slowed by other processes. */
        double bestLater() {
            return Arrays.stream(laterEpochs()).max().orElse(Double.NaN);
        }

        double later() {
            double[] xs = laterEpochs();
            return xs.length == 0 ? Double.NaN : Repetitions.median(xs);
        }
    }
}
