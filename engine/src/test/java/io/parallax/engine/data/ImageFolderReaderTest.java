package io.parallax.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderReaderTest {

    @TempDir
    Path root;

    /** An RGB PNG whose pixel (x, y) has the given channel values. */
    private Path rgb(String path, int[][] r, int[][] g, int[][] b) throws IOException {
        int h = r.length;
        int w = r[0].length;
        BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                image.setRGB(x, y, (r[y][x] << 16) | (g[y][x] << 8) | b[y][x]);
            }
        }
        return write(path, image);
    }

    /** An 8-bit grey-scale PNG. */
    private Path gray(String path, int[][] v) throws IOException {
        BufferedImage image = new BufferedImage(v[0].length, v.length, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < v.length; y++) {
            for (int x = 0; x < v[0].length; x++) {
                image.getRaster().setSample(x, y, 0, v[y][x]);
            }
        }
        return write(path, image);
    }

    private Path write(String path, BufferedImage image) throws IOException {
        Path file = root.resolve(path);
        Files.createDirectories(file.getParent());
        assertTrue(ImageIO.write(image, "png", file.toFile()));
        return file;
    }

    private static int[][] fill(int h, int w, int v) {
        int[][] a = new int[h][w];
        for (int[] row : a) {
            java.util.Arrays.fill(row, v);
        }
        return a;
    }

    @Test
    void classesAreSortedFolderNamesAndRowsAreChannelsFirst() throws IOException {
        rgb("non-cat/a.png", new int[][] {{1, 2}}, new int[][] {{3, 4}}, new int[][] {{5, 6}});
        rgb("cat/b.png", new int[][] {{10, 20}}, new int[][] {{30, 40}}, new int[][] {{50, 60}});
        rgb("cat/a.png", new int[][] {{255, 0}}, new int[][] {{0, 255}}, new int[][] {{128, 7}});
        Files.writeString(root.resolve("cat/notes.txt"), "not an image, skipped");
        ImageFolderReader.LabelledImages read = ImageFolderReader.read(root, 0, 0, false);
        assertEquals(List.of("cat", "non-cat"), read.classNames());
        Dataset d = read.dataset();
        assertEquals(3, d.rows());
        assertEquals(6, d.width()); // 3 channels × 1 × 2
        assertArrayEquals(new int[] {0, 0, 1}, d.labels());
        // cat/a.png first (files sorted): R plane, G plane, B plane
        float[] first = java.util.Arrays.copyOfRange(d.features(), 0, 6);
        assertArrayEquals(new float[] {1f, 0f, 0f, 1f, 128 / 255f, 7 / 255f}, first, 1e-7f);
        float[] third = java.util.Arrays.copyOfRange(d.features(), 12, 18);
        assertArrayEquals(new float[] {1 / 255f, 2 / 255f, 3 / 255f, 4 / 255f, 5 / 255f, 6 / 255f}, third, 1e-7f);
    }

    @Test
    void grayscaleFilesKeepTheirStoredValuesAndRgbBecomesLuma() throws IOException {
        gray("a/g.png", new int[][] {{0, 64, 128, 255}});
        rgb("b/c.png", new int[][] {{255, 0, 0, 100}}, new int[][] {{0, 255, 0, 100}}, new int[][] {{0, 0, 255, 100}});
        Dataset d = ImageFolderReader.read(root, 0, 0, true).dataset();
        assertEquals(4, d.width());
        // Java's getRGB would gamma-correct a grey PNG (64 → ~136); the raster value must survive
        assertArrayEquals(new float[] {0f, 64 / 255f, 128 / 255f, 1f}, java.util.Arrays.copyOfRange(d.features(), 0, 4),
                1e-7f);
        // PIL's convert("L"), bit for bit (Pillow 9.4: [76, 150, 29, 100] for these pixels)
        assertArrayEquals(new float[] {76 / 255f, 150 / 255f, 29 / 255f, 100 / 255f},
                java.util.Arrays.copyOfRange(d.features(), 4, 8));
    }

    @Test
    void enlargingIsPillowsBilinearAsTorchvisionsResizeOnAPilImage() throws IOException {
        // expected values: Pillow 9.4, Image.fromarray(...).resize((4, 3), Image.BILINEAR)
        rgb("x/up.png", new int[][] {{0, 255}, {100, 50}}, new int[][] {{255, 0}, {155, 205}}, fill(2, 2, 10));
        Dataset d = ImageFolderReader.read(root, 4, 3, false).dataset();
        assertEquals(3 * 3 * 4, d.width());
        float[] red = {0, 64, 191, 255, 50, 76, 127, 153, 100, 88, 63, 50};
        float[] green = {255, 191, 64, 0, 205, 180, 129, 103, 155, 168, 193, 205};
        for (int i = 0; i < 12; i++) {
            assertEquals(red[i] / 255f, d.features()[i], "red element " + i);
            assertEquals(green[i] / 255f, d.features()[12 + i], "green element " + i);
            assertEquals(10 / 255f, d.features()[24 + i], "blue element " + i);
        }
    }

    @Test
    void shrinkingAveragesAsPillowDoesNotAsTorchInterpolate() throws IOException {
        int[][] v = new int[6][6];
        for (int y = 0; y < 6; y++) {
            for (int x = 0; x < 6; x++) {
                v[y][x] = 7 * (y * 6 + x);
            }
        }
        gray("x/down.png", v);
        Dataset d = ImageFolderReader.read(root, 3, 4, true).dataset();
        // Pillow 9.4's resize((3, 4), BILINEAR); F.interpolate(antialias=False) gives 14, 28, 42, 77, …
        float[] expected = {21, 34, 46, 80, 93, 105, 140, 153, 165, 199, 212, 224};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i] / 255f, d.features()[i], "element " + i);
        }
    }

    @Test
    void filesInSubFoldersCountInTorchvisionsOrderAndTiffIsRead() throws IOException {
        gray("cat/z.png", fill(1, 1, 1));
        gray("cat/a b/y.png", fill(1, 1, 2));
        gray("cat/a/x.png", fill(1, 1, 3));
        gray("cat/a/w.png", fill(1, 1, 4));
        gray("cat/.thumbs/v.png", fill(1, 1, 9));
        gray("dog/u.png", fill(1, 1, 5));
        BufferedImage tiff = new BufferedImage(1, 1, BufferedImage.TYPE_BYTE_GRAY);
        tiff.getRaster().setSample(0, 0, 0, 6);
        assertTrue(ImageIO.write(tiff, "tiff", root.resolve("dog/t.TIFF").toFile()));
        List<Path> order = ImageFolderReader.list(root).entries().stream().map(ImageFolderReader.Entry::file).toList();
        // as sorted(os.walk("cat")) lists them: the folders "cat" < "cat/a" < "cat/a b" (a prefix sorts
        // first), the files by name within each; hidden folders left out
        assertEquals(List.of(root.resolve("cat/z.png"), root.resolve("cat/a/w.png"), root.resolve("cat/a/x.png"),
                root.resolve("cat/a b/y.png"), root.resolve("dog/t.TIFF"), root.resolve("dog/u.png")), order);
        float[] values = ImageFolderReader.read(root, 0, 0, true).dataset().features();
        assertArrayEquals(new float[] {1, 4, 3, 2, 6, 5}, scaled(values));
    }

    @Test
    void anImageThisReaderCannotDecodeOrALinkToNothingIsRefusedNotSkipped() throws IOException {
        gray("cat/a.png", fill(1, 1, 1));
        gray("dog/b.png", fill(1, 1, 2));
        Path webp = Files.writeString(root.resolve("dog/c.webp"), "RIFF");
        IOException e = assertThrows(IOException.class, () -> ImageFolderReader.list(root));
        assertTrue(e.getMessage().startsWith(webp + ": this image format is not read here"), e.getMessage());
        Files.delete(webp);
        Path link = Files.createSymbolicLink(root.resolve("dog/gone.png"), root.resolve("nowhere.png"));
        e = assertThrows(IOException.class, () -> ImageFolderReader.list(root));
        assertEquals(link + " is a link to nothing", e.getMessage());
    }

    private static float[] scaled(float[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Math.round(v[i] * 255);
        }
        return out;
    }

    @Test
    void mixedSizesWithoutATargetSizeNameTwoFilesThatDiffer() throws IOException {
        Path a = gray("cat/a.png", fill(2, 2, 1));
        Path b = gray("non-cat/b.png", fill(3, 2, 1));
        IOException e = assertThrows(IOException.class, () -> ImageFolderReader.read(root, 0, 0, true));
        assertTrue(e.getMessage().contains(a.toString()) && e.getMessage().contains(b.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("2×2") && e.getMessage().contains("2×3"), e.getMessage());
        // with a size both are resized and the read succeeds
        assertEquals(2, ImageFolderReader.read(root, 2, 2, true).dataset().rows());
    }

    @Test
    void emptyClassFolderIsAnError() throws IOException {
        gray("cat/a.png", fill(2, 2, 1));
        Files.createDirectories(root.resolve("non-cat"));
        IOException e = assertThrows(IOException.class, () -> ImageFolderReader.list(root));
        assertTrue(e.getMessage().contains("non-cat") && e.getMessage().contains("no image"), e.getMessage());
    }

    @Test
    void folderWithoutClassFoldersIsAnError() throws IOException {
        gray("a.png", fill(2, 2, 1)).toFile();
        IOException e = assertThrows(IOException.class, () -> ImageFolderReader.list(root));
        assertTrue(e.getMessage().contains("no class folders"), e.getMessage());
        assertThrows(java.nio.file.NoSuchFileException.class, () -> ImageFolderReader.list(root.resolve("missing")));
    }

    /** A PNG of 16-bit samples (grey, grey + alpha or RGB), pixel by pixel. */
    private Path sixteenBit(String path, String format, ColorSpace space, boolean alpha, int[]... pixels)
            throws IOException {
        int bands = space.getNumComponents() + (alpha ? 1 : 0);
        int[] bits = new int[bands];
        java.util.Arrays.fill(bits, 16);
        ComponentColorModel cm = new ComponentColorModel(space, bits, alpha, false,
                alpha ? Transparency.TRANSLUCENT : Transparency.OPAQUE, DataBuffer.TYPE_USHORT);
        WritableRaster raster = cm.createCompatibleWritableRaster(pixels.length, 1);
        for (int x = 0; x < pixels.length; x++) {
            raster.setPixel(x, 0, pixels[x]);
        }
        Path file = root.resolve(path);
        Files.createDirectories(file.getParent());
        assertTrue(ImageIO.write(new BufferedImage(cm, raster, false, null), format, file.toFile()));
        return file;
    }

    @Test
    void sixteenBitSamplesReadAsPilReadsThemAndGreyIsRoundedResizedOrNot() throws IOException {
        ColorSpace gray = ColorSpace.getInstance(ColorSpace.CS_GRAY);
        ColorSpace srgb = ColorSpace.getInstance(ColorSpace.CS_sRGB);
        sixteenBit("a/rgb16.png", "png", srgb, false, new int[] {57031, 50955, 56385}, new int[] {0, 65535, 128});
        // 50955: high byte 199, rounded v/257 198; 56385: 220 and 219 (the two rules told apart)
        sixteenBit("b/la16.png", "png", gray, true, new int[] {50955, 65535}, new int[] {56385, 100});
        sixteenBit("c/gray16.png", "png", gray, false, new int[] {50955}, new int[] {56385});
        Dataset d = ImageFolderReader.read(root, 0, 0, false).dataset();
        // Pillow 9.4, np.array(Image.open(f).convert("RGB")): the high byte of each sample
        assertArrayEquals(new float[] {222, 0, 199, 255, 220, 0}, times255(d.features(), 0, 6));
        assertArrayEquals(new float[] {199, 220, 199, 220, 199, 220}, times255(d.features(), 6, 12));
        // PIL clips 16-bit grey to 255; scaled to 0–255 here, and rounded as when resized
        assertArrayEquals(new float[] {198, 219, 198, 219, 198, 219}, times255(d.features(), 12, 18));
        Dataset luma = ImageFolderReader.read(root, 0, 0, true).dataset();
        // convert("L"): [208, 150] from the high bytes
        assertArrayEquals(new float[] {208, 150, 199, 220, 198, 219}, times255(luma.features(), 0, 6));
    }

    private static float[] times255(float[] values, int from, int to) {
        float[] out = new float[to - from];
        for (int i = from; i < to; i++) {
            out[i - from] = values[i] * 255f;
            assertEquals(Math.round(out[i - from]), out[i - from], 1e-4f, "not a whole 0–255 value at " + i);
            out[i - from] = Math.round(out[i - from]);
        }
        return out;
    }

    @Test
    void floatingPointSamplesAreRefusedNotGuessedAt() throws IOException {
        gray("a/g.png", fill(1, 2, 3));
        ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_GRAY), false, false,
                Transparency.OPAQUE, DataBuffer.TYPE_FLOAT);
        WritableRaster raster = cm.createCompatibleWritableRaster(2, 1);
        raster.setSample(0, 0, 0, -0.5f);
        raster.setSample(1, 0, 0, 1.5f);
        Path tiff = root.resolve("b/float.tif");
        Files.createDirectories(tiff.getParent());
        assertTrue(ImageIO.write(new BufferedImage(cm, raster, false, null), "tiff", tiff.toFile()));
        IOException e = assertThrows(IOException.class, () -> ImageFolderReader.read(root, 0, 0, true));
        assertEquals("cannot read image " + tiff + ": its samples are 32-bit floating-point values, which have no "
                + "agreed scale to 0–255 (PIL and torchvision would turn them into 0, 1 or 255); save it as an 8- or "
                + "16-bit image", e.getMessage());
    }

    @Test
    void anEmptyFileAndAPngCutShortSaySo() throws IOException {
        gray("a/g.png", fill(8, 8, 3));
        Path empty = Files.createFile(root.resolve("a/empty.png"));
        IOException e = assertThrows(IOException.class, () -> ImageFolderReader.read(root, 0, 0, true));
        assertEquals("cannot read image " + empty + ": the file is empty (0 bytes)", e.getMessage());
        Files.delete(empty);
        BufferedImage noise = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        java.util.SplittableRandom random = new java.util.SplittableRandom(3);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                noise.setRGB(x, y, random.nextInt(1 << 24));
            }
        }
        Path png = write("b/noise.png", noise);
        byte[] whole = Files.readAllBytes(png);
        Files.write(png, java.util.Arrays.copyOf(whole, whole.length / 2));
        e = assertThrows(IOException.class, () -> ImageFolderReader.read(root, 8, 8, true));
        assertTrue(e.getMessage().startsWith("cannot read image " + png + ": it is truncated ("), e.getMessage());
    }

    @Test
    void unreadableImageIsNamed() throws IOException {
        gray("cat/a.png", fill(2, 2, 1));
        Path bad = root.resolve("cat/broken.png");
        Files.write(bad, new byte[] {1, 2, 3, 4, 5});
        IOException e = assertThrows(IOException.class, () -> ImageFolderReader.read(root, 0, 0, true));
        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
    }

    @Test
    void aJpegCutShortIsRefusedNotFilledWithGrey() throws IOException {
        gray("cat/a.png", fill(8, 8, 1));
        gray("dog/b.png", fill(8, 8, 2));
        BufferedImage noise = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        java.util.SplittableRandom random = new java.util.SplittableRandom(5);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                noise.setRGB(x, y, random.nextInt(1 << 24));
            }
        }
        Path jpeg = root.resolve("dog/photo.jpg");
        assertTrue(ImageIO.write(noise, "jpeg", jpeg.toFile()));
        byte[] whole = Files.readAllBytes(jpeg);
        assertEquals(3, ImageFolderReader.read(root, 8, 8, false).dataset().rows());
        Files.write(jpeg, java.util.Arrays.copyOf(whole, whole.length * 4 / 5));
        IOException e = assertThrows(IOException.class, () -> ImageFolderReader.read(root, 8, 8, false));
        assertTrue(e.getMessage().startsWith("cannot read image " + jpeg + ": it is truncated"), e.getMessage());
    }

    private static byte[] jpeg(BufferedImage image) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        assertTrue(ImageIO.write(image, "jpeg", bytes));
        return bytes.toByteArray();
    }

    /**
     * Writes {@code jpeg} with the profile of {@code colorSpace} as class a's image and as it is
     * as class b's; returns both files, the profiled one first.
     */
    private Path[] profiledAndBare(byte[] jpeg, int colorSpace) throws IOException {
        Path profiled = root.resolve("a/profiled.jpg");
        Path bare = root.resolve("b/bare.jpg");
        Files.createDirectories(profiled.getParent());
        Files.createDirectories(bare.getParent());
        Files.write(profiled, withProfile(jpeg, colorSpace));
        Files.write(bare, jpeg);
        return new Path[] {profiled, bare};
    }

    /** The folder's two images read to the same row: the profile changed nothing, as in PIL. */
    private void assertBothRowsAlike(boolean grayscale) throws IOException {
        Dataset d = ImageFolderReader.read(root, 0, 0, grayscale).dataset();
        int width = d.width();
        assertArrayEquals(java.util.Arrays.copyOfRange(d.features(), width, 2 * width),
                java.util.Arrays.copyOfRange(d.features(), 0, width));
    }

    /** {@code jpeg} without its JFIF APP0 segment, as an Exif-only file from a camera. */
    private static byte[] withoutJfif(byte[] jpeg) {
        assertEquals(0xE0, jpeg[3] & 0xff);
        int afterApp0 = 4 + (((jpeg[4] & 0xff) << 8) | (jpeg[5] & 0xff));
        byte[] out = new byte[jpeg.length - (afterApp0 - 2)];
        System.arraycopy(jpeg, 0, out, 0, 2);
        System.arraycopy(jpeg, afterApp0, out, 2, jpeg.length - afterApp0);
        return out;
    }

    /** {@code jpeg} with the ICC profile of {@code colorSpace} in an APP2 segment after JFIF's APP0 (or SOI). */
    private static byte[] withProfile(byte[] jpeg, int colorSpace) throws IOException {
        byte[] profile = java.awt.color.ICC_Profile.getInstance(colorSpace).getData();
        byte[] tag = "ICC_PROFILE\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int length = 2 + tag.length + 2 + profile.length;
        int afterApp0 = (jpeg[3] & 0xff) == 0xE0 ? 4 + (((jpeg[4] & 0xff) << 8) | (jpeg[5] & 0xff)) : 2;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.write(jpeg, 0, afterApp0);
        out.write(new byte[] {(byte) 0xFF, (byte) 0xE2, (byte) (length >> 8), (byte) length});
        out.write(tag);
        out.write(new byte[] {1, 1});
        out.write(profile);
        out.write(jpeg, afterApp0, jpeg.length - afterApp0);
        return out.toByteArray();
    }

    @Test
    void anExifJpegWithoutJfifAndWithAProfileReadsAsWithoutItToo() throws IOException {
        BufferedImage photo = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                photo.setRGB(x, y, (x * 16) << 16 | (y * 16) << 8 | 100);
            }
        }
        Path[] files = profiledAndBare(withoutJfif(jpeg(photo)), java.awt.color.ColorSpace.CS_LINEAR_RGB);
        // javax.imageio converts the profiled file's colours (else this test would show nothing)
        assertTrue(ImageIO.read(files[0].toFile()).getRGB(3, 3) != ImageIO.read(files[1].toFile()).getRGB(3, 3));
        assertBothRowsAlike(false);
    }

    @Test
    void aGreyJpegWithAGreyProfileStillReads() throws IOException {
        BufferedImage grey = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                grey.getRaster().setSample(x, y, 0, 16 * x + y);
            }
        }
        profiledAndBare(jpeg(grey), java.awt.color.ColorSpace.CS_GRAY);
        assertBothRowsAlike(true);
    }

    @Test
    void aJpegWithItsOwnColourProfileReadsAsWithoutItAsPilDoes() throws IOException {
        BufferedImage photo = new BufferedImage(37, 23, BufferedImage.TYPE_INT_RGB);
        java.util.SplittableRandom random = new java.util.SplittableRandom(3);
        for (int y = 0; y < 23; y++) {
            for (int x = 0; x < 37; x++) {
                photo.setRGB(x, y, ((x * 7 + y * 3) % 256) << 16 | ((x * x + y * 5) % 256) << 8 | random.nextInt(256));
            }
        }
        // the same JPEG with a linear-RGB ICC profile, as a camera or an editor embeds a Display
        // P3 or Adobe RGB profile
        Path[] files = profiledAndBare(jpeg(photo), java.awt.color.ColorSpace.CS_LINEAR_RGB);
        // javax.imageio converts the profiled file's colours to sRGB (else this test shows nothing)
        assertTrue(ImageIO.read(files[0].toFile()).getRGB(5, 5) != ImageIO.read(files[1].toFile()).getRGB(5, 5));
        // PIL's convert("RGB") ignores the profile: both files give the same stored colours (the
        // bare file's decoding matches PIL's exactly, and the profiled path was checked bit for
        // bit against Pillow 9.4 on 4:2:0, 4:4:4 and progressive files)
        assertBothRowsAlike(false);
    }
}
