package io.parallax.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataReadersTest {

    @TempDir
    Path dir;

    private static byte[] idx(int[] shape, byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(0x0800 | shape.length);
        for (int d : shape) {
            out.writeInt(d);
        }
        out.write(data);
        return bytes.toByteArray();
    }

    private Path write(String name, byte[] content, boolean gzip) throws IOException {
        Path p = dir.resolve(name);
        try (OutputStream out = gzip ? new GZIPOutputStream(Files.newOutputStream(p)) : Files.newOutputStream(p)) {
            out.write(content);
        }
        return p;
    }

    @Test
    void readsGzippedAndPlainIdxIntoScaledPixels() throws IOException {
        byte[] pixels = {0, (byte) 255, (byte) 51, 102, 1, 2, 3, 4};
        Path images = write("img.gz", idx(new int[] {2, 2, 2}, pixels), true);
        Path labels = write("lbl", idx(new int[] {2}, new byte[] {3, 9}), false);
        Dataset d = IdxReader.readDataset(images, labels, 10);
        assertEquals(2, d.rows());
        assertEquals(4, d.width());
        assertArrayEquals(new int[] {3, 9}, d.labels());
        assertEquals(1f, d.features()[1]);
        assertEquals(0.2f, d.features()[2], 1e-7f);
    }

    @Test
    void truncatedOrForeignIdxFilesAreRejectedWithTheirPath() throws IOException {
        byte[] full = idx(new int[] {4, 2}, new byte[8]);
        Path truncated = write("short", java.util.Arrays.copyOf(full, full.length - 3), false);
        IOException e = assertThrows(IOException.class, () -> IdxReader.read(truncated));
        assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("short"), e.getMessage());
        Path text = write("text", "hello world, not idx".getBytes(), false);
        assertTrue(assertThrows(IOException.class, () -> IdxReader.read(text)).getMessage().contains("not an IDX"));
        assertThrows(java.nio.file.NoSuchFileException.class, () -> IdxReader.read(dir.resolve("missing")));
    }

    @Test
    void csvNamesClassesInSortedOrderAndNormalises() throws IOException {
        Path csv = dir.resolve("d.csv");
        Files.writeString(csv, "a,b,kind\n1,10,cat\n3,10,non-cat\n5,10,cat\n");
        CsvReader.LabelledCsv read = CsvReader.read(csv, "kind");
        assertEquals(List.of("cat", "non-cat"), read.classNames());
        assertEquals(List.of("a", "b"), read.featureNames());
        assertArrayEquals(new int[] {0, 1, 0}, read.dataset().labels());
        Dataset d = read.dataset();
        Normalization.fit(Normalization.Kind.STANDARDIZE, d).applyInPlace(d);
        float s = (float) Math.sqrt(8.0 / 3);
        assertArrayEquals(new float[] {-2 / s, 0, 0, 0, 2 / s, 0}, d.features(), 1e-6f);
    }

    @Test
    void csvErrorsNameTheProblem() throws IOException {
        Path csv = dir.resolve("d.csv");
        Files.writeString(csv, "a,b,label\n1,2,0\n1,x,1\n");
        assertTrue(assertThrows(IOException.class, () -> CsvReader.read(csv, "target")).getMessage()
                .contains("no column 'target'"));
        IOException e = assertThrows(IOException.class, () -> CsvReader.read(csv, "label"));
        assertTrue(e.getMessage().contains(":3") && e.getMessage().contains("'b'"), e.getMessage());
    }

    @Test
    void minMaxScalesIntoTheUnitInterval() {
        Dataset d = new Dataset(new float[] {2, 5, 4, 5, 6, 5}, new int[] {0, 1, 0}, 2, 2);
        Normalization.fit(Normalization.Kind.MIN_MAX, d).applyInPlace(d);
        assertArrayEquals(new float[] {0, 0, 0.5f, 0, 1, 0}, d.features(), 0f);
    }
}
