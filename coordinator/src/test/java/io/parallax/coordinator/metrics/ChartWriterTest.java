package io.parallax.coordinator.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.coordinator.JobListener.EpochReport;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The PNG decodes, has the promised size, and shows each curve in its own panel. */
class ChartWriterTest {

    static final int TRAIN = 0x1f77b4;
    static final int VALIDATION = 0xff7f0e;
    static final int ACCURACY = 0x2ca02c;

    @TempDir
    Path dir;

    /** A plausible run: losses falling towards a floor, accuracy rising towards a ceiling. */
    static EpochReport epoch(int e) {
        double train = 0.3 + 1.9 * Math.exp(-0.45 * e);
        double val = 0.36 + 1.7 * Math.exp(-0.4 * e);
        double accuracy = 0.89 - 0.55 * Math.exp(-0.5 * e);
        return new EpochReport(e, train, val, accuracy, 40_000, 1.2 * e, 1e-3, 2, 0);
    }

    private BufferedImage draw(Iterable<EpochReport> epochs) throws IOException {
        Path png = dir.resolve("curves.png");
        try (ChartWriter chart = new ChartWriter(png, "job-0001")) {
            for (EpochReport e : epochs) {
                chart.onEpoch(e);
            }
        }
        BufferedImage image = ImageIO.read(png.toFile());
        assertNotNull(image, "not a readable image");
        assertEquals(ChartWriter.PANEL_WIDTH, image.getWidth());
        assertEquals(2 * ChartWriter.PANEL_HEIGHT, image.getHeight());
        return image;
    }

    /** How many pixels of exactly {@code rgb} lie in rows [fromY, toY). */
    static int count(BufferedImage image, int rgb, int fromY, int toY) {
        int n = 0;
        for (int y = fromY; y < toY; y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                if ((image.getRGB(x, y) & 0xFFFFFF) == rgb) {
                    n++;
                }
            }
        }
        return n;
    }

    static double inkFraction(BufferedImage image) {
        long ink = 0;
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y) & 0xFFFFFF;
                colours.add(rgb);
                if (rgb != 0xFFFFFF) {
                    ink++;
                }
            }
        }
        assertTrue(colours.size() > 10, "only " + colours.size() + " colours: blank?");
        return ink / (double) (image.getWidth() * image.getHeight());
    }

    @Test
    void twelveEpochsDrawLossOnTopAndAccuracyBelow() throws IOException {
        BufferedImage image = draw(IntStream.rangeClosed(1, 12).mapToObj(ChartWriterTest::epoch).toList());
        int half = ChartWriter.PANEL_HEIGHT;
        int h = image.getHeight();
        assertTrue(count(image, TRAIN, 0, half) > 300, "training loss curve missing");
        assertTrue(count(image, VALIDATION, 0, half) > 300, "validation loss curve missing");
        assertEquals(0, count(image, ACCURACY, 0, half), "accuracy drawn in the loss panel");
        assertTrue(count(image, ACCURACY, half, h) > 300, "accuracy curve missing");
        assertEquals(0, count(image, TRAIN, half, h) + count(image, VALIDATION, half, h), "loss in the accuracy panel");
        double ink = inkFraction(image);
        assertTrue(ink > 0.02 && ink < 0.5, "ink fraction " + ink);
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "a partial file was left behind");
        }
    }

    @Test
    void noEpochStillGivesAValidChartWithoutCurves() throws IOException {
        BufferedImage image = draw(List.of());
        int h = image.getHeight();
        assertEquals(0, count(image, TRAIN, 0, h) + count(image, VALIDATION, 0, h) + count(image, ACCURACY, 0, h));
        assertTrue(inkFraction(image) > 0.005, "axes and titles should still be drawn");
    }

    @Test
    void oneEpochIsDrawnAsPoints() throws IOException {
        BufferedImage image = draw(List.of(epoch(1)));
        int h = image.getHeight();
        assertTrue(count(image, TRAIN, 0, ChartWriter.PANEL_HEIGHT) > 10, "training loss point missing");
        assertTrue(count(image, ACCURACY, ChartWriter.PANEL_HEIGHT, h) > 10, "accuracy point missing");
    }

    @Test
    void unmeasuredValidationIsLeftOut() throws IOException {
        List<EpochReport> epochs = new ArrayList<>();
        for (int e = 1; e <= 5; e++) {
            EpochReport r = epoch(e);
            epochs.add(new EpochReport(e, r.trainLoss(), Double.NaN, Double.NaN, 1, 1, 1e-3, 1, 0));
        }
        BufferedImage image = draw(epochs);
        int h = image.getHeight();
        assertTrue(count(image, TRAIN, 0, h) > 300);
        assertEquals(0, count(image, VALIDATION, 0, h) + count(image, ACCURACY, 0, h));
    }

    @Test
    void theChartIsWrittenOnceAndReplacesAnOldOne() throws IOException {
        Path png = dir.resolve("curves.png");
        Files.writeString(png, "not a png");
        ChartWriter chart = new ChartWriter(png);
        chart.onEpoch(epoch(1));
        chart.onEpoch(epoch(2));
        chart.close();
        long written = Files.size(png);
        assertNotNull(ImageIO.read(png.toFile()));
        Files.delete(png);
        chart.close();
        assertTrue(written > 1000 && Files.notExists(png), "a second close must not write again");
    }
}
