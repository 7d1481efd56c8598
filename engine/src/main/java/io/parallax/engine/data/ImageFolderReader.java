package io.parallax.engine.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import org.w3c.dom.Node;

/**
 * Reads images laid out as torchvision's {@code ImageFolder}: one sub-folder per class under a
 * root ({@code cat/}, {@code non-cat/}); the sorted folder names are the classes 0, 1, …, and the
 * image files anywhere under each (folder by folder in sorted order, then by name, as
 * torchvision's {@code make_dataset}) its samples. PNG, JPEG, BMP and TIFF files are read with
 * {@code javax.imageio}; files with other extensions are skipped as torchvision skips them, but
 * the extensions torchvision would read and this reader cannot ({@code .ppm}, {@code .pgm},
 * {@code .webp}) are refused. Hidden files and folders are skipped (torchvision reads them).
 *
 * <p>Each image becomes one row like torchvision's {@code ToTensor()}: channels first
 * (C×H×W, flattened), values x/255 in [0, 1]; C = 3 (RGB; an alpha channel is dropped, as
 * PIL's {@code convert("RGB")}) or C = 1 (luma L = 0.299R + 0.587G + 0.114B rounded to 8
 * bits, bit for bit as PIL's {@code convert("L")}). Grey-scale files are read from their raster,
 * not through Java's colour conversion, which would apply a gamma curve to their values; likewise
 * a JPEG with an embedded colour profile keeps its stored colours, as PIL does (javax.imageio
 * would convert them to sRGB). 16-bit colour and grey-with-alpha samples give their high byte,
 * as PIL reads them; 16-bit grey without alpha is scaled to 0–255 and rounded (PIL clips it to
 * 255). Floating-point samples and integers wider than 16 bits (TIFF) are refused. CMYK JPEGs
 * and TIFFs are converted by javax.imageio and differ from PIL's simple conversion.
 *
 * <p>Resizing (when a size is given) is Pillow's {@code Image.resize(size, BILINEAR)} bit for
 * bit ({@link PilBilinear}), which is what torchvision's {@code transforms.Resize} does to the PIL
 * images its {@code ImageFolder} loads: antialiased when shrinking, rounded to 8 bits. It runs
 * after the conversion to RGB or grey (as {@code convert()} then {@code resize()} in PIL); a
 * 16-bit grey image, scaled to 0–255, is rounded to whole values first. Images already at the
 * requested size are not resampled.
 */
public final class ImageFolderReader {

    /** File extensions read (lower case). */
    public static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff");

    /** Extensions torchvision's ImageFolder reads that javax.imageio does not decode. */
    private static final List<String> UNDECODED_EXTENSIONS = List.of(".ppm", ".pgm", ".webp");

    /** One image file and its class index. */
    public record Entry(Path file, int label) {}

    /** The files of an image folder, before any is decoded. */
    public record Listing(Path root, List<String> classNames, List<Entry> entries) {}

    /**
     * The decoded images.
     *
     * @param channels 1 (grey-scale) or 3 (RGB)
     */
    public record LabelledImages(Dataset dataset, List<String> classNames, int channels, int height, int width) {}

    private ImageFolderReader() {}

    /**
     * Lists the class folders and their image files.
     *
     * @throws IOException if the root is missing or not a folder, has no class folder, or a class
     *     folder holds no image (naming it)
     */
    public static Listing list(Path root) throws IOException {
        if (!Files.exists(root)) {
            throw new NoSuchFileException(root.toString(), null, "image folder not found");
        }
        if (!Files.isDirectory(root)) {
            throw new NotDirectoryException(root + " (an image folder must be a directory of class folders)");
        }
        List<Path> classDirs;
        try (Stream<Path> s = Files.list(root)) {
            classDirs = s.filter(Files::isDirectory).filter(p -> !hidden(p)).sorted().toList();
        }
        if (classDirs.isEmpty()) {
            throw new IOException(root + " holds no class folders; expected one sub-folder per class, e.g. cat/ and non-cat/");
        }
        List<String> classNames = new ArrayList<>();
        List<Entry> entries = new ArrayList<>();
        for (Path dir : classDirs) {
            List<Path> files = imagesUnder(dir);
            if (files.isEmpty()) {
                throw new IOException("class folder " + dir + " holds no image (" + String.join(", ", EXTENSIONS) + ")");
            }
            int label = classNames.size();
            classNames.add(dir.getFileName().toString());
            for (Path f : files) {
                entries.add(new Entry(f, label));
            }
        }
        return new Listing(root, List.copyOf(classNames), List.copyOf(entries));
    }

    /** {@link #list} then {@link #read(Listing, int, int, boolean)}. */
    public static LabelledImages read(Path root, int width, int height, boolean grayscale) throws IOException {
        return read(list(root), width, height, grayscale);
    }

    /**
     * Decodes every listed image.
     *
     * @param width  resize to this many columns; 0 together with {@code height} 0 keeps each
     *               image's own size, which must then be the same for all
     * @param height resize to this many rows
     * @throws IOException naming the file that cannot be decoded, or two files of different sizes
     */
    public static LabelledImages read(Listing listing, int width, int height, boolean grayscale) throws IOException {
        if (width < 0 || height < 0 || (width == 0) != (height == 0)) {
            throw new IllegalArgumentException("give a width and height ≥ 1, or both 0 for the images' own size; got "
                    + width + "×" + height);
        }
        int channels = grayscale ? 1 : 3;
        List<Entry> entries = listing.entries();
        int[] labels = new int[entries.size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = entries.get(i).label();
        }
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("the listing holds no image"); // list() refuses such a folder
        }
        // the first image alone: without a target size, its size is every image's
        Path first = entries.get(0).file();
        BufferedImage firstImage = decode(first, MemoryGate.NONE).image();
        int w = width == 0 ? firstImage.getWidth() : width;
        int h = width == 0 ? firstImage.getHeight() : height;
        long floats = (long) entries.size() * channels * w * h;
        if (floats > Integer.MAX_VALUE - 16) {
            throw new IOException(entries.size() + " images of " + channels + "×" + h + "×" + w + " make "
                    + floats + " values, more than one data set holds (2^31): use fewer or smaller images");
        }
        float[] features = new float[(int) floats];
        int rowWidth = channels * w * h;
        putRow(features, 0, firstImage, grayscale, channels, w, h);
        // the rest on every core (decoding is most of the time a job takes to start), as many
        // images at once as half the free heap holds at full size (one 6000×6000 photo takes
        // ~1 GB on the way), in a pool of their own; a failure is reported for the first file in
        // order that fails, as a loop would
        java.util.concurrent.ConcurrentSkipListMap<Integer, IOException> failures =
                new java.util.concurrent.ConcurrentSkipListMap<>();
        int cw = w;
        int ch = h;
        MemoryGate gate = MemoryGate.ofFreeHeap();
        Runnable rest = () -> java.util.stream.IntStream.range(1, entries.size()).parallel().forEach(i -> {
            if (!failures.isEmpty() && failures.firstKey() < i) {
                return; // an earlier file failed: that is the answer
            }
            Path file = entries.get(i).file();
            try {
                Decoded d = decode(file, gate);
                try {
                    BufferedImage image = d.image();
                    if (width == 0 && (image.getWidth() != cw || image.getHeight() != ch)) {
                        throw new IOException("images of different sizes: " + first + " is " + cw + "×" + ch + ", "
                                + file + " is " + image.getWidth() + "×" + image.getHeight()
                                + "; give the job an image size to resize them to");
                    }
                    putRow(features, i * rowWidth, image, grayscale, channels, cw, ch);
                } finally {
                    gate.release(d.permits());
                }
            } catch (IOException e) {
                failures.put(i, e);
            }
        });
        java.util.concurrent.ForkJoinPool pool = new java.util.concurrent.ForkJoinPool(
                Runtime.getRuntime().availableProcessors());
        try {
            pool.submit(rest).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while decoding the images of " + listing.root());
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            // the pool hands over a copy of a worker thread's exception, caused by the original
            while (cause.getCause() != null && cause.getCause().getClass() == cause.getClass()) {
                cause = cause.getCause();
            }
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err; // an OutOfMemoryError, said as such by whoever reads the job
            }
            throw new IOException(cause);
        } finally {
            pool.shutdownNow();
        }
        if (!failures.isEmpty()) {
            throw failures.firstEntry().getValue();
        }
        Dataset dataset = new Dataset(features, labels, channels * w * h, listing.classNames().size());
        return new LabelledImages(dataset, listing.classNames(), channels, h, w);
    }

    /** The image as one row at {@code offset}: channels first, resized to {@code w}×{@code h}, x/255. */
    private static void putRow(float[] features, int offset, BufferedImage image, boolean grayscale, int channels,
            int w, int h) {
        float[] planes = planes(image, grayscale);
        if (image.getWidth() != w || image.getHeight() != h) {
            planes = PilBilinear.resize(planes, channels, image.getHeight(), image.getWidth(), h, w);
        }
        for (int k = 0; k < planes.length; k++) {
            features[offset + k] = planes[k] / 255f;
        }
    }

    /** A decoded image and the permits of the {@link MemoryGate} it holds until its row is made. */
    private record Decoded(BufferedImage image, int permits) {}

    /**
     * Bounds the memory of the images decoded at once: permits are KiB, an image takes about
     * {@link #BYTES_PER_PIXEL} a pixel of its full size until its row is made (the decoded image,
     * its pixels as ints and as float planes, the resize's copy), and one larger than the whole
     * budget is decoded alone.
     */
    private static final class MemoryGate {
        static final long BYTES_PER_PIXEL = 32;
        static final MemoryGate NONE = new MemoryGate(Integer.MAX_VALUE);

        private final java.util.concurrent.Semaphore permits;
        private final int capacity;

        private MemoryGate(int capacityKib) {
            this.capacity = capacityKib;
            this.permits = new java.util.concurrent.Semaphore(capacityKib);
        }

        /** Half the heap not in use now, at least 64 MiB. */
        static MemoryGate ofFreeHeap() {
            Runtime rt = Runtime.getRuntime();
            long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
            return new MemoryGate((int) Math.min(Integer.MAX_VALUE - 1, Math.max(64L << 10, free / 2 / 1024)));
        }

        /** Waits until {@code pixels} of a full-size image fit; returns the permits to give back. */
        int acquire(long pixels) {
            if (this == NONE) {
                return 0;
            }
            int wanted = (int) Math.min(capacity, Math.max(1, pixels * BYTES_PER_PIXEL / 1024));
            permits.acquireUninterruptibly(wanted);
            return wanted;
        }

        void release(int n) {
            if (n > 0) {
                permits.release(n);
            }
        }
    }

    private static Decoded decode(Path file, MemoryGate gate) throws IOException {
        if (Files.size(file) == 0) {
            throw new IOException("cannot read image " + file + ": the file is empty (0 bytes)");
        }
        BufferedImage image = null;
        int held = 0;
        List<String> truncated = new ArrayList<>();
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = in == null ? Collections.emptyIterator() : ImageIO.getImageReaders(in);
            if (readers.hasNext()) {
                ImageReader reader = readers.next();
                try {
                    reader.setInput(in, true, true);
                    // its size from its header, before the pixels take the memory
                    held = gate.acquire((long) reader.getWidth(0) * reader.getHeight(0));
                    // a JPEG cut short decodes with grey where the data ended, and only a warning
                    // says so; PIL (and so torchvision) refuses it: "image file is truncated"
                    reader.addIIOReadWarningListener((source, warning) -> {
                        if (warning != null && warning.toLowerCase(Locale.ROOT).contains("premature end")) {
                            truncated.add(warning);
                        }
                    });
                    Raster stored = profiledJpeg(reader) ? reader.readRaster(0, null) : null;
                    // three components are Y, Cb, Cr; a grey JPEG's one is read as before
                    image = stored != null && stored.getNumBands() == 3 ? decodedAsPil(stored) : reader.read(0);
                } finally {
                    reader.dispose();
                }
            }
            if (image == null) {
                throw new IOException("cannot read image " + file + ": not a PNG, JPEG, BMP or TIFF file");
            }
            if (!truncated.isEmpty()) {
                throw new IOException("cannot read image " + file + ": it is truncated (" + truncated.get(0) + ")");
            }
            refuseUnmappedSamples(file, image);
            return new Decoded(image, held);
        } catch (IOException | RuntimeException | Error e) {
            gate.release(held);
            if (e instanceof Error err) {
                throw err;
            }
            if (e instanceof IOException io && String.valueOf(io.getMessage()).startsWith("cannot read image " + file)) {
                throw io; // said already, above
            }
            // a PNG or TIFF cut short fails its read at the end of the file
            throw new IOException("cannot read image " + file + ": " + (endOfFile(e) ? "it is truncated ("
                    + e.getMessage() + ")" : e.getMessage()), e);
        }
    }

    /**
     * Whether this is a YCbCr JPEG with an embedded ICC colour profile (Display P3, Adobe RGB,
     * …), which javax.imageio converts to sRGB while decoding; PIL, and so torchvision, hand over
     * the stored colours unconverted. A JFIF file holds its profile under the JFIF marker; an
     * Exif file (as cameras write) in a marker javax.imageio does not name, and is YCbCr unless
     * an Adobe marker says otherwise.
     */
    private static boolean profiledJpeg(ImageReader reader) throws IOException {
        if (!"jpeg".equalsIgnoreCase(reader.getFormatName())) {
            return false;
        }
        IIOMetadata metadata = reader.getImageMetadata(0);
        if (metadata == null || !Arrays.asList(metadata.getMetadataFormatNames())
                .contains("javax_imageio_jpeg_image_1.0")) {
            return false;
        }
        Node tree = metadata.getAsTree("javax_imageio_jpeg_image_1.0");
        boolean exifProfile = false;
        boolean notYcc = false;
        for (Node part = tree.getFirstChild(); part != null; part = part.getNextSibling()) {
            for (Node marker = part.getFirstChild(); marker != null; marker = marker.getNextSibling()) {
                switch (marker.getNodeName()) {
                    case "app0JFIF" -> {
                        for (Node n = marker.getFirstChild(); n != null; n = n.getNextSibling()) {
                            if (n.getNodeName().equals("app2ICC")) {
                                return true;
                            }
                        }
                    }
                    case "unknown" -> exifProfile |= isIccSegment(marker);
                    case "app14Adobe" -> notYcc |= !"1".equals(attribute(marker, "transform"));
                    default -> { }
                }
            }
        }
        return exifProfile && !notYcc;
    }

    /** An APP2 segment holding (a piece of) an ICC profile. */
    private static boolean isIccSegment(Node marker) {
        return "226".equals(attribute(marker, "MarkerTag")) && marker instanceof IIOMetadataNode node
                && node.getUserObject() instanceof byte[] data && data.length >= 12
                && new String(data, 0, 12, StandardCharsets.US_ASCII).equals("ICC_PROFILE\0");
    }

    private static String attribute(Node node, String name) {
        Node a = node.getAttributes() == null ? null : node.getAttributes().getNamedItem(name);
        return a == null ? null : a.getNodeValue();
    }

    /**
     * The decoded but unconverted Y, Cb, Cr samples turned into RGB as libjpeg does for PIL:
     * 16-bit fixed-point JFIF coefficients, rounded, clamped (bit-exact with Pillow 9.4 on
     * 4:2:0, 4:4:4 and progressive files).
     */
    private static BufferedImage decodedAsPil(Raster ycc) {
        int w = ycc.getWidth();
        int h = ycc.getHeight();
        int crR = fix(1.40200);
        int cbB = fix(1.77200);
        int cbG = fix(0.34414);
        int crG = fix(0.71414);
        BufferedImage rgb = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int luma = ycc.getSample(x, y, 0);
                int cb = ycc.getSample(x, y, 1) - 128;
                int cr = ycc.getSample(x, y, 2) - 128;
                int r = clamp8(luma + ((crR * cr + 32768) >> 16));
                int g = clamp8(luma + ((-cbG * cb - crG * cr + 32768) >> 16));
                int b = clamp8(luma + ((cbB * cb + 32768) >> 16));
                rgb.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return rgb;
    }

    private static int fix(double coefficient) {
        return (int) (coefficient * 65536 + 0.5);
    }

    private static int clamp8(int v) {
        return Math.max(0, Math.min(255, v));
    }

    /** The image as channels-first planes of 0–255 values. */
    private static float[] planes(BufferedImage image, boolean grayscale) {
        int w = image.getWidth();
        int h = image.getHeight();
        int plane = w * h;
        float[] out = new float[(grayscale ? 1 : 3) * plane];
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        boolean indexed = cm instanceof IndexColorModel;
        boolean gray = !indexed && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY;
        int bits = cm.getComponentSize(0);
        if (gray && !cm.hasAlpha()) {
            // read the stored grey level (getRGB would pass it through a linear-to-sRGB curve),
            // scaled to 0–255 and rounded: exact for 1, 2, 4 and 8 bits as PIL; 16 bits are
            // scaled where PIL clips them to 255
            double max = (1 << bits) - 1;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    float v = Math.round(raster.getSample(x, y, 0) * 255.0 / max);
                    for (int c = 0; c < out.length / plane; c++) {
                        out[c * plane + y * w + x] = v;
                    }
                }
            }
            return out;
        }
        int[] argb;
        if (gray || (!indexed && bits > 8 && cm.getColorSpace().isCS_sRGB() && !cm.isAlphaPremultiplied())) {
            // grey with alpha, and 16-bit colour: the high byte of each sample, as PIL reads
            // them ("LA;16B", "RGB;16B"); getRGB would round v/257 (and curve grey levels)
            int shift = bits - 8;
            argb = new int[plane];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int r = raster.getSample(x, y, 0) >> shift;
                    int g = gray ? r : raster.getSample(x, y, 1) >> shift;
                    int b = gray ? r : raster.getSample(x, y, 2) >> shift;
                    argb[y * w + x] = (r << 16) | (g << 8) | b;
                }
            }
        } else {
            argb = interleavedRgb(image);
            if (argb == null) {
                argb = image.getRGB(0, 0, w, h, null, 0, w);
            }
        }
        for (int i = 0; i < plane; i++) {
            int r = (argb[i] >> 16) & 0xff;
            int g = (argb[i] >> 8) & 0xff;
            int b = argb[i] & 0xff;
            if (grayscale) {
                out[i] = luma(r, g, b);
            } else {
                out[i] = r;
                out[plane + i] = g;
                out[2 * plane + i] = b;
            }
        }
        return out;
    }

    private static boolean endOfFile(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.io.EOFException
                    || (t instanceof java.util.zip.ZipException && String.valueOf(t.getMessage()).contains("end of"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * The pixels of an 8-bit sRGB image stored interleaved (what the JPEG and PNG readers give:
     * BGR, ABGR or RGBA bytes), as {@code getRGB} would give them, read straight from its bytes;
     * null for any other layout. getRGB converts pixel by pixel through the colour model, which
     * took longer than decoding the JPEG.
     */
    private static int[] interleavedRgb(BufferedImage image) {
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        if (!(cm instanceof ComponentColorModel) || !cm.getColorSpace().isCS_sRGB() || cm.isAlphaPremultiplied()
                || cm.getNumColorComponents() != 3 || !(raster.getSampleModel() instanceof PixelInterleavedSampleModel sm)
                || !(raster.getDataBuffer() instanceof DataBufferByte buffer) || buffer.getNumBanks() != 1) {
            return null;
        }
        for (int b = 0; b < 3; b++) {
            if (sm.getSampleSize(b) != 8) {
                return null;
            }
        }
        byte[] data = buffer.getData();
        int[] band = sm.getBandOffsets();
        int pixelStride = sm.getPixelStride();
        int scanline = sm.getScanlineStride();
        // a raster of a sub-image starts inside its buffer
        int origin = buffer.getOffset() - raster.getSampleModelTranslateY() * scanline
                - raster.getSampleModelTranslateX() * pixelStride;
        int w = image.getWidth();
        int h = image.getHeight();
        int[] rgb = new int[w * h];
        for (int y = 0; y < h; y++) {
            int at = origin + y * scanline;
            for (int x = 0; x < w; x++, at += pixelStride) {
                rgb[y * w + x] = (data[at + band[0]] & 0xff) << 16 | (data[at + band[1]] & 0xff) << 8
                        | (data[at + band[2]] & 0xff);
            }
        }
        return rgb;
    }

    /**
     * Refuses samples that have no agreed mapping to 0–255: floating-point ones, and integers of
     * more than 16 bits (TIFF's), which PIL's {@code convert} turns into 0/1 or clips, and any
     * scaling here would only guess at.
     */
    private static void refuseUnmappedSamples(Path file, BufferedImage image) throws IOException {
        ColorModel cm = image.getColorModel();
        int type = image.getRaster().getDataBuffer().getDataType();
        boolean floating = type == DataBuffer.TYPE_FLOAT || type == DataBuffer.TYPE_DOUBLE;
        if (floating || (!(cm instanceof IndexColorModel) && cm.getComponentSize(0) > 16)) {
            throw new IOException("cannot read image " + file + ": its samples are " + cm.getComponentSize(0) + "-bit "
                    + (floating ? "floating-point" : "integer") + " values, which have no agreed scale to 0–255 (PIL "
                    + "and torchvision would turn them into 0, 1 or 255); save it as an 8- or 16-bit image");
        }
    }

    /** PIL's convert("L") exactly: 16-bit fixed-point ITU-R 601 luma, rounded to 8 bits. */
    private static int luma(int r, int g, int b) {
        return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
    }

    /**
     * The image files anywhere under a class folder, as torchvision's {@code make_dataset} orders
     * them: folder by folder in sorted path order, each folder's files sorted by name; links
     * followed. Hidden files and folders are left out (macOS's {@code ._x.jpg} would not decode);
     * an image extension this reader cannot decode, or a link to nothing, is refused rather than
     * left out unseen.
     */
    private static List<Path> imagesUnder(Path classDir) throws IOException {
        TreeMap<String, List<Path>> byFolder = new TreeMap<>();
        Files.walkFileTree(classDir, EnumSet.of(FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE,
                new SimpleFileVisitor<>() {
                    @Override
                    public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                        return !dir.equals(classDir) && hidden(dir) ? FileVisitResult.SKIP_SUBTREE
                                : FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                        if (hidden(file)) {
                            return FileVisitResult.CONTINUE;
                        }
                        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
                        boolean image = isImage(file);
                        if (!image && UNDECODED_EXTENSIONS.stream().anyMatch(name::endsWith)) {
                            throw new IOException(file + ": this image format is not read here (only "
                                    + String.join(", ", EXTENSIONS) + "); convert the file or move it out");
                        }
                        if (image && attrs.isSymbolicLink()) {
                            throw new IOException(file + " is a link to nothing");
                        }
                        if (image && attrs.isRegularFile()) {
                            byFolder.computeIfAbsent(classDir.relativize(file.getParent()).toString(),
                                    k -> new ArrayList<>()).add(file);
                        }
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                        if (e instanceof FileSystemLoopException) {
                            throw new IOException(file + " links back to a folder above it: the image folder "
                                    + "would never end", e);
                        }
                        throw e;
                    }
                });
        List<Path> files = new ArrayList<>();
        for (List<Path> folder : byFolder.values()) {
            folder.sort(null);
            files.addAll(folder);
        }
        return files;
    }

    private static boolean isImage(Path p) {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return EXTENSIONS.stream().anyMatch(name::endsWith);
    }

    private static boolean hidden(Path p) {
        return p.getFileName().toString().startsWith(".");
    }
}
