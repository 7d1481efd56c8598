package io.parallax.coordinator.metrics;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Draws a job's learning curves into a PNG when the job ends (at {@link #close()}), with XChart:
 * two panels one above the other, the training and validation loss per epoch on top, the
 * validation accuracy per epoch below, sharing the epoch axis.
 *
 * <p>A PNG is always written, so a job folder always has one: with no epoch the panels are empty
 * and the title says "no epochs completed"; a single epoch is drawn as points. Values a report
 * leaves as NaN ("not measured": no validation set, a task without accuracy) or infinite are left
 * out of their series, and a series with no value left is not drawn; a panel with none says so.
 * The file is written beside the target and moved into place, so readers never see half a PNG.
 */
public final class ChartWriter implements MetricsSink {

    static {
        // a coordinator runs on servers without a display; respect an explicit choice though
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    /** Pixel size of one panel; the PNG is one panel wide and two tall. */
    static final int PANEL_WIDTH = 900;
    static final int PANEL_HEIGHT = 380;

    private static final Color TRAIN = new Color(0x1f77b4);
    private static final Color VALIDATION = new Color(0xff7f0e);
    private static final Color ACCURACY = new Color(0x2ca02c);
    /** Beyond this many epochs the markers would crowd the lines. */
    private static final int MAX_EPOCHS_WITH_MARKERS = 40;

    /** Numbers this process's partial files. */
    private static final AtomicLong PARTIALS = new AtomicLong();

    private final Path png;
    private final String title;
    private final List<EpochReport> epochs = new ArrayList<>();
    private boolean closed;

    /** A chart titled "Training curves". */
    public ChartWriter(Path png) {
        this(png, "Training curves");
    }

    /** A chart whose top panel is titled {@code title} (e.g. the job's name). */
    public ChartWriter(Path png, String title) {
        this(png, title, List.of());
    }

    /** A chart titled {@code title} that starts with {@code earlier} (a resumed job's epochs before its checkpoint). */
    public ChartWriter(Path png, String title, List<EpochReport> earlier) {
        this.png = png;
        this.title = title;
        this.epochs.addAll(earlier);
        GraphicsWarmUp.ONCE.run();
    }

    /**
     * Draws one small chart the first time a writer is made. Java's font and imaging code
     * registers shutdown hooks when first used, which throws once the JVM is shutting down:
     * the chart of a job stopped by SIGTERM was written at exactly that moment, and failed.
     */
    private enum GraphicsWarmUp implements Runnable {
        ONCE;

        private boolean done;

        @Override
        public synchronized void run() {
            if (done) {
                return;
            }
            done = true;
            try {
                EpochReport r = new EpochReport(1, 1, 1, 0.5, 1, 1, 1e-3, 1, 0);
                BitmapEncoder.saveBitmap(charts("warm-up", List.of(r)), 2, 1, OutputStream.nullOutputStream(),
                        BitmapEncoder.BitmapFormat.PNG);
            } catch (IOException | RuntimeException e) {
                // the real chart will say what is wrong
            }
        }
    }

    @Override
    public synchronized void onEpoch(EpochReport epoch) {
        epochs.add(epoch);
    }

    /** Writes the PNG (once; later calls do nothing). */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        Path parent = png.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        // a name of its own: another writer of the same chart must not move or delete this one's
        Path partial = png.resolveSibling(png.getFileName() + "." + ProcessHandle.current().pid() + "."
                + PARTIALS.incrementAndGet() + ".partial");
        try {
            try (OutputStream out = Files.newOutputStream(partial, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                BitmapEncoder.saveBitmap(charts(title, epochs), 2, 1, out, BitmapEncoder.BitmapFormat.PNG);
            }
            Files.move(partial, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    /** The two panels for these epochs: loss, then accuracy. */
    static List<XYChart> charts(String title, List<EpochReport> epochs) {
        XYChart loss = panel(epochs.isEmpty() ? title + " (no epochs completed)" : title + ": loss", "loss per sample");
        int lossSeries = add(loss, "training loss", TRAIN, epochs, EpochReport::trainLoss)
                + add(loss, "validation loss", VALIDATION, epochs, EpochReport::valLoss);
        loss.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        // XChart prints a tick at an extreme data value in full (1.519908197929448)
        loss.getStyler().setYAxisTickLabelsFormattingFunction(
                y -> new BigDecimal(y).round(new MathContext(5)).stripTrailingZeros().toPlainString());
        if (epochs.size() == 1 && lossSeries > 0) {
            padSinglePoints(loss, epochs.get(0));
        }

        int accuracyCount = count(epochs, EpochReport::valAccuracy);
        XYChart accuracy = panel(accuracyTitle(epochs, accuracyCount), "validation accuracy");
        int accuracySeries = add(accuracy, "validation accuracy", ACCURACY, epochs, EpochReport::valAccuracy);
        accuracy.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
        accuracy.getStyler().setYAxisTickLabelsFormattingFunction(y -> String.format(Locale.ROOT, "%.1f%%", 100 * y));

        if (lossSeries == 0 && !epochs.isEmpty()) {
            loss.setTitle(title + ": loss (not measured)");
        }
        for (XYChart chart : List.of(loss, accuracy)) {
            if ((chart == loss ? lossSeries : accuracySeries) == 0) {
                // no data: a unit box instead of XChart's default -1..1 around nothing
                XYStyler style = chart.getStyler();
                style.setXAxisMin(0.0);
                style.setXAxisMax(1.0);
                style.setYAxisMin(0.0);
                style.setYAxisMax(1.0);
                style.setLegendVisible(false);
            }
        }
        return List.of(loss, accuracy);
    }

    /**
     * One epoch's train and validation loss would sit on the plot's top and bottom edges, the only
     * two ticks; a margin of a tenth of the value around them gives the axis room for its ticks.
     */
    private static void padSinglePoints(XYChart chart, EpochReport only) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double v : new double[] {only.trainLoss(), only.valLoss()}) {
            if (Double.isFinite(v)) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        double pad = Math.max(0.1 * Math.max(Math.abs(lo), Math.abs(hi)), 1e-3);
        chart.getStyler().setYAxisMin(lo - pad);
        chart.getStyler().setYAxisMax(hi + pad);
    }

    private static String accuracyTitle(List<EpochReport> epochs, int measured) {
        if (epochs.isEmpty()) {
            return "Validation accuracy";
        }
        if (measured == 0) {
            return "Validation accuracy (not measured)";
        }
        EpochReport best = null;
        EpochReport last = null;
        for (EpochReport e : epochs) {
            if (Double.isFinite(e.valAccuracy())) {
                last = e;
                if (best == null || e.valAccuracy() > best.valAccuracy()) {
                    best = e;
                }
            }
        }
        return String.format(Locale.ROOT, "Validation accuracy: %.2f%% after epoch %d (best %.2f%%, epoch %d)",
                100 * last.valAccuracy(), last.epoch(), 100 * best.valAccuracy(), best.epoch());
    }

    private static XYChart panel(String title, String yTitle) {
        XYChart chart = new XYChartBuilder().width(PANEL_WIDTH).height(PANEL_HEIGHT).title(title)
                .xAxisTitle("epoch").yAxisTitle(yTitle).build();
        XYStyler style = chart.getStyler();
        style.setChartBackgroundColor(Color.WHITE);
        style.setPlotBackgroundColor(Color.WHITE);
        style.setPlotBorderColor(new Color(0xbbbbbb));
        style.setPlotGridLinesColor(new Color(0xe4e4e4));
        style.setPlotGridLinesStroke(new BasicStroke(1f));
        style.setChartTitleBoxVisible(false);
        style.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        style.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        style.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        style.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        style.setLegendBorderColor(new Color(0xcccccc));
        style.setAntiAlias(true);
        // epochs are whole numbers: XChart would otherwise label ticks 1.5, 2.5 for short runs
        style.setXAxisTickLabelsFormattingFunction(
                x -> Math.abs(x - Math.rint(x)) < 1e-9 ? Long.toString(Math.round(x)) : "");
        return chart;
    }

    /** Adds the finite values of {@code metric} as a series; returns 1 if added, 0 if none was finite. */
    private static int add(XYChart chart, String name, Color color, List<EpochReport> epochs,
                           ToDoubleFunction<EpochReport> metric) {
        List<Integer> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        for (EpochReport e : epochs) {
            double v = metric.applyAsDouble(e);
            if (Double.isFinite(v)) {
                x.add(e.epoch());
                y.add(v);
            }
        }
        if (x.isEmpty()) {
            return 0;
        }
        XYSeries series = chart.addSeries(name, x, y);
        series.setLineColor(color);
        series.setMarkerColor(color);
        series.setLineStyle(new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        series.setMarker(epochs.size() <= MAX_EPOCHS_WITH_MARKERS ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
        return 1;
    }

    private static int count(List<EpochReport> epochs, ToDoubleFunction<EpochReport> metric) {
        int n = 0;
        for (EpochReport e : epochs) {
            if (Double.isFinite(metric.applyAsDouble(e))) {
                n++;
            }
        }
        return n;
    }
}
