package io.parallax.bench;

import io.parallax.engine.data.ImageFolderReader;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * Reading an image folder ({@link ImageFolderReader#read}, what every node does when a job on
 * one starts): makes a folder of JPEG "photos" when it is empty (two classes, smooth colour fields
 * with noise, so that they compress as photos do), then reads it {@code --reps} times and prints
 * each read's seconds. {@code bench/run-image-bench.sh} runs it next to Pillow on the same files.
 *
 * <p>Options: {@code --dir DIR} (required), {@code --images N} (1000), {@code --width W}
 * {@code --height H} (320×240, of the files made), {@code --size S} (8: the job's
 * {@code width} and {@code height}), {@code --gray}, {@code --reps R} (3).
 */
public final class ImageFolderBench {

    private ImageFolderBench() {}

    public static void main(String[] args) throws IOException {
        try {
            run(args);
        } catch (UnknownOption e) {
            UnknownOption.exit("ImageFolderBench", e);
        }
    }

    private static void run(String[] args) throws IOException {
        Path dir = null;
        int images = 1000;
        int width = 320;
        int height = 240;
        int size = 8;
        int reps = 3;
        boolean gray = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[++i]);
                case "--images" -> images = Integer.parseInt(args[++i]);
                case "--width" -> width = Integer.parseInt(args[++i]);
                case "--height" -> height = Integer.parseInt(args[++i]);
                case "--size" -> size = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--gray" -> gray = true;
                default -> throw new UnknownOption("unknown option " + args[i] + " (see the class comment)");
            }
        }
        if (dir == null) {
            throw new IllegalArgumentException("--dir DIR is required");
        }
        if (!Files.isDirectory(dir) || isEmpty(dir)) {
            make(dir, images, width, height);
        }
        for (int r = 0; r < reps; r++) {
            long t = System.nanoTime();
            ImageFolderReader.LabelledImages read = ImageFolderReader.read(dir, size, size, gray);
            System.out.printf(Locale.ROOT, "parallax: %d images in %.2f s%n", read.dataset().rows(),
                    (System.nanoTime() - t) / 1e9);
        }
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.findAny().isEmpty();
        }
    }

    /** {@code images} JPEGs in {@code cat/} and {@code non-cat/}, the same for the same arguments. */
    private static void make(Path dir, int images, int width, int height) throws IOException {
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < images; i++) {
            Path file = dir.resolve(i % 2 == 0 ? "cat" : "non-cat").resolve(String.format(Locale.ROOT, "%05d.jpg", i));
            Files.createDirectories(file.getParent());
            BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
            int[] base = {random.nextInt(256), random.nextInt(256), random.nextInt(256)};
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    int rgb = 0;
                    for (int c = 0; c < 3; c++) {
                        int v = base[c] + (x * (c + 1) + y * (3 - c)) % 97 - 48 + random.nextInt(17) - 8;
                        rgb = rgb << 8 | Math.max(0, Math.min(255, v));
                    }
                    image.setRGB(x, y, rgb);
                }
            }
            if (!ImageIO.write(image, "jpeg", file.toFile())) {
                throw new IOException("no JPEG writer");
            }
        }
    }
}
