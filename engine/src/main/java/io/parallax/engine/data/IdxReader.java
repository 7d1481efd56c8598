package io.parallax.engine.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads the IDX format of MNIST and Fashion-MNIST (gzipped or not, told apart by the gzip magic
 * bytes): a big-endian header (0, 0, type 0x08 = unsigned byte, rank; then one int per axis)
 * followed by the data. Only unsigned-byte files are accepted — the format of every MNIST-family
 * file.
 */
public final class IdxReader {

    /** The contents of one IDX file. */
    public record IdxArray(int[] shape, byte[] data) {

        /** Product of the axes after the first: pixels per image, 1 for a label file. */
        public int rowWidth() {
            int w = 1;
            for (int i = 1; i < shape.length; i++) {
                w *= shape[i];
            }
            return w;
        }
    }

    private IdxReader() {}

    public static IdxArray read(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new NoSuchFileException(path.toString(), null, "IDX file not found");
        }
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(path), 1 << 16)) {
            raw.mark(2);
            int b0 = raw.read();
            int b1 = raw.read();
            raw.reset();
            InputStream in = (b0 == 0x1f && b1 == 0x8b) ? new BufferedInputStream(new GZIPInputStream(raw, 1 << 16)) : raw;
            DataInputStream data = new DataInputStream(in);
            int magic;
            try {
                magic = data.readInt();
            } catch (EOFException e) {
                throw new IOException(path + " is " + (b0 < 0 ? "empty" : "too short for an IDX header")
                        + ": an IDX file starts with 4 magic bytes and one 4-byte size per axis", e);
            }
            int type = (magic >>> 8) & 0xff;
            int rank = magic & 0xff;
            if ((magic >>> 16) != 0 || rank < 1 || rank > 4) {
                throw new IOException(path + " is not an IDX file (magic 0x" + Integer.toHexString(magic) + ")");
            }
            if (type != 0x08) {
                throw new IOException(path + ": IDX element type 0x" + Integer.toHexString(type)
                        + " is not supported; only unsigned bytes (0x08)");
            }
            int[] shape = new int[rank];
            long total = 1;
            for (int i = 0; i < rank; i++) {
                try {
                    shape[i] = data.readInt();
                } catch (EOFException e) {
                    throw new IOException(path + " is truncated inside its header: rank " + rank + " promises "
                            + rank + " axis sizes, the file ends after " + i, e);
                }
                if (shape[i] < 0) {
                    throw new IOException(path + ": negative axis " + shape[i] + " in the IDX header");
                }
                total *= shape[i];
                if (total > Integer.MAX_VALUE - 16) {
                    throw new IOException(path + ": IDX file claims " + total + " elements, more than this reader holds");
                }
            }
            byte[] bytes = new byte[(int) total];
            try {
                data.readFully(bytes);
            } catch (EOFException e) {
                throw new IOException(path + " is truncated: the header promises " + total + " bytes of data", e);
            }
            // read on to the end: gzip checks its CRC there, and bytes past the array mean the
            // header does not describe the file
            int extra;
            try {
                extra = data.read();
            } catch (ZipException | EOFException e) {
                throw new IOException(path + ": its gzip data are damaged (" + e.getMessage() + ")", e);
            }
            if (extra != -1) {
                throw new IOException(path + " holds more than the " + total + " bytes of data its header promises: "
                        + "a damaged header, or not one IDX array");
            }
            return new IdxArray(shape, bytes);
        }
    }

    /**
     * An image file and a label file as a dataset, pixels scaled to [0, 1] (x/255) as
     * torchvision's ToTensor does.
     */
    public static Dataset readDataset(Path images, Path labels, int classes) throws IOException {
        return readDataset(images, labels, classes, false);
    }

    /**
     * {@link #readDataset(Path, Path, int)} with as many classes as the labels need (the
     * largest + 1), as the job runtime counts them: EMNIST's 47 or 62, not MNIST's 10.
     */
    public static Dataset readDataset(Path images, Path labels) throws IOException {
        return readDataset(images, labels, 0, true);
    }

    private static Dataset readDataset(Path images, Path labels, int classes, boolean countClasses)
            throws IOException {
        IdxArray x = read(images);
        IdxArray y = read(labels);
        if (y.shape().length != 1) {
            throw new IOException(labels + " is not a label file: rank " + y.shape().length + ", expected 1");
        }
        if (x.shape().length < 2) {
            throw new IOException(images + " is not an image file: rank 1 (a label file?), expected [count, rows, "
                    + "columns] or similar");
        }
        if (x.shape()[0] != y.shape()[0]) {
            throw new IOException(images + " holds " + x.shape()[0] + " images but " + labels + " holds "
                    + y.shape()[0] + " labels");
        }
        int width = x.rowWidth();
        float[] features = new float[x.data().length];
        for (int i = 0; i < features.length; i++) {
            features[i] = (x.data()[i] & 0xff) / 255f;
        }
        int[] label = new int[y.shape()[0]];
        int most = 0;
        for (int i = 0; i < label.length; i++) {
            label[i] = y.data()[i] & 0xff;
            most = Math.max(most, label[i]);
            if (!countClasses && label[i] >= classes) {
                throw new IOException(labels + ": label " + label[i] + " at row " + i + " is outside [0, " + classes
                        + ")");
            }
        }
        return new Dataset(features, label, width, countClasses ? most + 1 : classes);
    }
}
