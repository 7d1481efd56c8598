package io.parallax.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
        // without a class count the labels give it (EMNIST has 47 or 62); with one, a label
        // beyond it names its file
        assertEquals(10, IdxReader.readDataset(images, labels).classes());
        IOException e = assertThrows(IOException.class, () -> IdxReader.readDataset(images, labels, 5));
        assertEquals(labels + ": label 9 at row 1 is outside [0, 5)", e.getMessage());
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
    void idxBytesBeyondTheHeaderOrAFailedGzipChecksumAreRefused() throws IOException {
        byte[] full = idx(new int[] {2, 2}, new byte[] {1, 2, 3, 4});
        Path extra = write("extra", java.util.Arrays.copyOf(full, full.length + 1), false);
        IOException e = assertThrows(IOException.class, () -> IdxReader.read(extra));
        assertTrue(e.getMessage().startsWith(extra + " holds more than the 4 bytes of data its header promises"),
                e.getMessage());
        // the gzip trailer's CRC no longer matches the data: gzip itself would refuse the file
        Path gz = write("crc.gz", full, true);
        byte[] bytes = Files.readAllBytes(gz);
        bytes[bytes.length - 8] ^= 1;
        Files.write(gz, bytes);
        e = assertThrows(IOException.class, () -> IdxReader.read(gz));
        assertTrue(e.getMessage().startsWith(gz + ": its gzip data are damaged"), e.getMessage());
        assertEquals(4, IdxReader.read(write("ok.gz", full, true)).data().length);
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
    void csvColumnsToIgnoreAreNeitherFeaturesNorReadAndMustExist() throws IOException {
        Path csv = dir.resolve("churn.csv");
        Files.writeString(csv, "id,age,note,spend,churned\n17,30,first visit,2.5,no\n18,41,,7,yes\n");
        CsvReader.LabelledCsv read = CsvReader.read(csv, "churned", List.of("id", "note"));
        assertEquals(List.of("age", "spend"), read.featureNames());
        assertArrayEquals(new float[] {30, 2.5f, 41, 7}, read.dataset().features());
        assertEquals(2, read.dataset().width());
        IOException unknown = assertThrows(IOException.class, () -> CsvReader.read(csv, "churned", List.of("ID")));
        assertEquals(csv + " has no column 'ID' to ignore; its columns: [id, age, note, spend, churned]",
                unknown.getMessage());
        IOException label = assertThrows(IOException.class, () -> CsvReader.read(csv, "churned", List.of("churned")));
        assertTrue(label.getMessage().contains("'churned' is the label column; it cannot be ignored too"),
                label.getMessage());
        IOException none = assertThrows(IOException.class,
                () -> CsvReader.read(csv, "churned", List.of("id", "age", "note", "spend")));
        assertEquals(csv + " has no feature columns besides the label 'churned' and the ignored [id, age, note, spend]",
                none.getMessage());
        // without the list, the text column is read as a feature and refused
        IOException text = assertThrows(IOException.class, () -> CsvReader.read(csv, "churned"));
        assertTrue(text.getMessage().contains("column 'note' holds 'first visit', not a number"), text.getMessage());
    }

    @Test
    void csvValuesAreScaledInFloat64BeforeRoundingToFloat32() throws IOException {
        // Unix timestamps 7 s apart: float32 steps by 128 s at 1.6e9, so rounded first they were
        // one constant (zeroed by either normalisation); scikit-learn on pandas' float64 keeps them
        Path csv = dir.resolve("t.csv");
        Files.writeString(csv, "time,x,label\n1600000000,0.1,a\n1600000007,0.2,b\n1600000014,0.3,a\n"
                + "1600000021,0.4,b\n1600000028,0.5,a\n");
        double[] time = {1600000000, 1600000007, 1600000014, 1600000021, 1600000028};
        double[] x = {0.1, 0.2, 0.3, 0.4, 0.5};
        double mean = 1600000014;
        double std = Math.sqrt((14.0 * 14 + 7 * 7 + 0 + 7 * 7 + 14 * 14) / 5);
        double xMean = (0.1 + 0.2 + 0.3 + 0.4 + 0.5) / 5;
        double xStd = 0;
        for (double v : x) {
            xStd += (v - xMean) * (v - xMean);
        }
        xStd = Math.sqrt(xStd / 5);

        Dataset d = CsvReader.read(csv, "label").dataset();
        assertArrayEquals(new double[] {time[0], x[0], time[1], x[1], time[2], x[2], time[3], x[3], time[4], x[4]},
                d.exactFeatures(), 0);
        Normalization.fit(Normalization.Kind.STANDARDIZE, d).applyInPlace(d);
        float[] want = new float[10];
        for (int r = 0; r < 5; r++) {
            want[2 * r] = (float) ((time[r] - mean) * (1 / std));
            want[2 * r + 1] = (float) ((x[r] - xMean) * (1 / xStd));
        }
        assertArrayEquals(want, d.features(), 0f);
        assertEquals(-1.4142135f, d.features()[0], 1e-6f);
        // the statistics applied again, as to raw data loaded later: from the float64 values again
        Normalization.fit(Normalization.Kind.STANDARDIZE, d).applyInPlace(d);
        assertArrayEquals(want, d.features(), 0f);
        d.releaseExact();
        assertNull(d.exactFeatures());

        Dataset m = CsvReader.read(csv, "label").dataset();
        Normalization.fit(Normalization.Kind.MIN_MAX, m).applyInPlace(m);
        assertArrayEquals(new float[] {0, 0, 0.25f, 0.25f, 0.5f, 0.5f, 0.75f, 0.75f, 1, 1}, m.features(), 1e-7f);

        // unnormalised, a value is its float64 rounded to float32, as torch.tensor(df.values, dtype=float32)
        Dataset raw = CsvReader.read(csv, "label").dataset();
        Normalization.fit(Normalization.Kind.NONE, raw).applyInPlace(raw);
        assertEquals((float) 1600000007.0, raw.features()[2]);
        assertEquals((float) 0.3, raw.features()[5]);
        // a model file's statistics applied to such raw data give training's values
        Normalization.fit(Normalization.Kind.STANDARDIZE, CsvReader.read(csv, "label").dataset()).applyInPlace(raw);
        assertArrayEquals(want, raw.features(), 0f);
    }

    @Test
    void aValidationSplitHoldsOutTheLastRowsOfTheSeededShuffleWithTheirFloat64Values() throws IOException {
        Path csv = dir.resolve("s.csv");
        StringBuilder text = new StringBuilder("t,label\n");
        for (int r = 0; r < 50; r++) {
            text.append(1_600_000_000L + r).append(',').append(r % 3).append('\n');
        }
        Files.writeString(csv, text.toString());
        Dataset d = CsvReader.read(csv, "label").dataset();
        Dataset all = d.shuffled(7);
        Dataset.Split split = d.split(7, 12);
        assertArrayEquals(all.slice(0, 38).features(), split.rest().features());
        assertArrayEquals(all.slice(38, 12).labels(), split.heldOut().labels());
        assertArrayEquals(all.slice(38, 12).exactFeatures(), split.heldOut().exactFeatures(), 0);
        assertEquals(38 + 12, java.util.Arrays.stream(split.rest().exactFeatures()).distinct().count()
                + java.util.Arrays.stream(split.heldOut().exactFeatures()).distinct().count());
    }

    @Test
    void minMaxOfARangeTooSmallForItsReciprocalIsAConstantFeature() {
        Dataset d = new Dataset(new float[] {0, 1, 0, 2}, new double[] {0, 1, 1e-310, 2}, new int[] {0, 1}, 2, 2);
        Normalization.fit(Normalization.Kind.MIN_MAX, d).applyInPlace(d);
        assertArrayEquals(new float[] {0, 0, 0, 1}, d.features(), 0f);
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
    void anEmptyOrShortIdxFileAndALabelFileGivenAsImagesSaySo() throws IOException {
        Path empty = write("empty", new byte[0], false);
        IOException e = assertThrows(IOException.class, () -> IdxReader.read(empty));
        assertTrue(e.getMessage().startsWith(empty + " is empty: an IDX file starts with"), e.getMessage());
        Path stub = write("stub", new byte[] {0, 0, 8, 3, 0, 0}, false);
        e = assertThrows(IOException.class, () -> IdxReader.read(stub));
        assertTrue(e.getMessage().startsWith(stub + " is truncated inside its header"), e.getMessage());
        Path labels = write("lbl", idx(new int[] {2}, new byte[] {3, 9}), false);
        e = assertThrows(IOException.class, () -> IdxReader.readDataset(labels, labels, 10));
        assertTrue(e.getMessage().startsWith(labels + " is not an image file: rank 1"), e.getMessage());
    }

    @Test
    void csvLabelsThatAreTheSameNumberAreOneClassAndAFractionIsNoClass() throws IOException {
        Path csv = Files.writeString(dir.resolve("d.csv"), "a,label\n1,1\n2,1.0\n3,0\n4,2\n5,0.0\n");
        CsvReader.LabelledCsv read = CsvReader.read(csv, "label");
        assertEquals(List.of("0", "1", "2"), read.classNames());
        assertArrayEquals(new int[] {1, 1, 0, 2, 0}, read.dataset().labels());

        Files.writeString(csv, "a,label\n1,1\n2,1.5\n3,0\n");
        IOException e = assertThrows(IOException.class, () -> CsvReader.read(csv, "label"));
        assertTrue(e.getMessage().contains("holds 1.5, which is no class"), e.getMessage());
        // names stay names
        Files.writeString(csv, "a,label\n1,cat\n2,1.5\n");
        assertEquals(List.of("1.5", "cat"), CsvReader.read(csv, "label").classNames());
    }

    @Test
    void anEmptyLabelOrALabelColumnNamedTwiceIsRefused() throws IOException {
        Path csv = Files.writeString(dir.resolve("d.csv"), "a,label\n1,x\n2,\n");
        IOException e = assertThrows(IOException.class, () -> CsvReader.read(csv, "label"));
        assertTrue(e.getMessage().equals(csv + ":3: the label column 'label' is empty"), e.getMessage());
        Files.writeString(csv, "a,label,label\n1,0.3,0\n2,0.7,1\n");
        e = assertThrows(IOException.class, () -> CsvReader.read(csv, "label"));
        assertTrue(e.getMessage().contains("names 'label' twice (columns 2 and 3)"), e.getMessage());
        // a feature column too: the model file names its inputs by column
        Files.writeString(csv, "a,b,a,label\n1,2,3,0\n");
        e = assertThrows(IOException.class, () -> CsvReader.read(csv, "label"));
        assertTrue(e.getMessage().endsWith("names 'a' twice (columns 1 and 3); give every column a name of its own"),
                e.getMessage());
    }

    @Test
    void aValueBeyondFloat32OrNotFiniteIsRefusedSayingWhy() throws IOException {
        Path csv = Files.writeString(dir.resolve("big.csv"), "a,label\n1,0\n1e39,1\n");
        IOException e = assertThrows(IOException.class, () -> CsvReader.read(csv, "label"));
        assertTrue(e.getMessage().startsWith(csv + ":3: column 'a' holds 1e39, beyond float32's range"), e.getMessage());
        Files.writeString(csv, "a,label\n1,0\n1e400,1\n");
        e = assertThrows(IOException.class, () -> CsvReader.read(csv, "label"));
        assertTrue(e.getMessage().equals(csv + ":3: column 'a' holds '1e400', not a finite number"), e.getMessage());
    }

    @Test
    void csvWrittenByExcelOrPandasReadsAsTheyMeanIt() throws IOException {
        // a byte-order mark before the header, and quoted cells that hold commas
        Path csv = Files.writeString(dir.resolve("d.csv"),
                "\uFEFFlabel,\"a, first\",b\n\"Smith, J.\",1,2\n\"O\"\"Neil\",3,4\nx,5,6\n");
        CsvReader.LabelledCsv read = CsvReader.read(csv, "label");
        assertEquals(List.of("a, first", "b"), read.featureNames());
        assertEquals(List.of("O\"Neil", "Smith, J.", "x"), read.classNames());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, read.dataset().features());
        assertEquals(List.of("label", "a, first", "b"), CsvReader.header(csv));
    }

    @Test
    void aQuotedCellMayHoldLineBreaksButMustBeClosed() throws IOException {
        // RFC 4180 and pandas: a quoted cell goes on over line breaks, in the header too
        Path csv = Files.writeString(dir.resolve("d.csv"),
                "a,\"the\nlabel\"\n1,\"two\nlines\"\n2,x\n3,\"two\nlines\"\n4,bad\n");
        CsvReader.LabelledCsv read = CsvReader.read(csv, "the\nlabel");
        assertEquals(List.of("two\nlines", "x", "two\nlines", "bad").size(), read.dataset().rows());
        assertEquals(List.of("bad", "two\nlines", "x"), read.classNames());
        assertArrayEquals(new int[] {1, 2, 1, 0}, read.dataset().labels());
        // line numbers after a record of two lines still name the file's own lines
        Files.writeString(csv, "a,label\n1,\"two\nlines\"\n2,x\nthree,y\n");
        IOException e = assertThrows(IOException.class, () -> CsvReader.read(csv, "label"));
        assertTrue(e.getMessage().equals(csv + ":5: column 'a' holds 'three', not a number"), e.getMessage());
        // a quote left open is refused, not read to the end of the line (pandas: EOF inside string)
        Files.writeString(csv, "a,label\n1,cat\n2,\"cat\n3,dog\n");
        e = assertThrows(IOException.class, () -> CsvReader.read(csv, "label"));
        assertTrue(e.getMessage().equals(csv + ":3: a quoted cell opened on this line is never closed (a missing '\"'?)"),
                e.getMessage());
        // and early in a large file it does not swallow the rest of it, nor take minutes to say so
        // when the lines it takes in hold quotes that keep the cell open (each line is scanned once)
        StringBuilder big = new StringBuilder("a,label\n1,\"cat\n");
        for (int i = 0; i < 200_000; i++) {
            big.append(i).append(",\"\",dog\n");
        }
        Files.writeString(csv, big);
        e = assertThrows(IOException.class, () -> CsvReader.read(csv, "label"));
        assertTrue(e.getMessage().matches(java.util.regex.Pattern.quote(csv + ":2: a quoted cell opened on this line "
                + "is still open ") + "\\d+ lines later, past 1048576 characters \\(a missing '\"'\\?\\)"),
                e.getMessage());
        int linesLater = Integer.parseInt(e.getMessage().replaceAll(".* still open (\\d+) lines later.*", "$1"));
        assertTrue(linesLater > 50_000 && linesLater < 100_000, "counted from the line it opened on: " + linesLater);
        // a quoted cell's own line break is part of it: "cat\n" is not cat
        Files.writeString(csv, "a,label\n1,\"cat\n\"\n2,cat\n3, cat \n");
        assertEquals(List.of("cat", "cat\n"), CsvReader.read(csv, "label").classNames());
    }

    @Test
    void csvThatWouldBeMisreadIsRefused() throws IOException {
        // Latin-1 bytes: replacement characters would make "café" and "cafè" one class
        Path csv = write("latin1.csv", "a,label\n1,caf\u00e9\n2,caf\u00e8\n3,tea\n"
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), false);
        IOException e = assertThrows(IOException.class, () -> CsvReader.read(csv, "label"));
        assertTrue(e.getMessage().startsWith(csv + " is not UTF-8 text"), e.getMessage());
        // a label pandas reads as missing is no class
        Path nan = Files.writeString(dir.resolve("nan.csv"), "a,label\n1,0\n2,1\n3,nan\n");
        e = assertThrows(IOException.class, () -> CsvReader.read(nan, "label"));
        assertTrue(e.getMessage().equals(nan + ":4: the label column 'label' holds 'nan', which reads as a missing "
                + "value (as pandas reads it), not a class"), e.getMessage());
        // as pandas, case and all: sodium and a class named "none" are classes
        Path na = Files.writeString(dir.resolve("na.csv"), "a,label\n1,Na\n2,none\n3,K\n");
        assertEquals(List.of("K", "Na", "none"), CsvReader.read(na, "label").classNames());
        // a header that is not comma-separated, or has a column without a name
        Path semi = Files.writeString(dir.resolve("semi.csv"), "a;b;label\n1;2;0\n");
        e = assertThrows(IOException.class, () -> CsvReader.header(semi));
        assertTrue(e.getMessage().contains("only commas separate columns here (this file seems to use ';')"),
                e.getMessage());
        Path index = Files.writeString(dir.resolve("index.csv"), ",a,label\n0,1,0\n1,2,1\n");
        e = assertThrows(IOException.class, () -> CsvReader.read(index, "label"));
        assertTrue(e.getMessage().contains("column 1 of 3 has no name in the header"), e.getMessage());
        // Java's number syntax is not CSV's: 2f, 6d, 0x1p3
        for (String cell : new String[] {"2f", "6d", "0x1p3", "Infinity"}) {
            Path odd = Files.writeString(dir.resolve("odd.csv"), "a,label\n1,0\n" + cell + ",1\n");
            e = assertThrows(IOException.class, () -> CsvReader.read(odd, "label"));
            assertTrue(e.getMessage().contains(":3: column 'a' holds '" + cell + "', not a number"), e.getMessage());
        }
    }

    @Test
    void aFolderOrADamagedGzipIsNamed() throws IOException {
        IOException e = assertThrows(IOException.class, () -> CsvReader.read(dir, "label"));
        assertEquals(dir + " is a folder, not a CSV file", e.getMessage());
        byte[] gz;
        try (ByteArrayOutputStream bytes = new ByteArrayOutputStream();
             OutputStream out = new GZIPOutputStream(bytes)) {
            out.write("a,label\n1,0\n2,1\n".repeat(200).getBytes());
            out.close();
            gz = bytes.toByteArray();
        }
        Path cut = write("cut.csv.gz", java.util.Arrays.copyOf(gz, gz.length / 2), false);
        e = assertThrows(IOException.class, () -> CsvReader.read(cut, "label"));
        assertTrue(e.getMessage().startsWith(cut + ": its gzip data are damaged or cut short"), e.getMessage());
        // cut inside the first line: the header alone (what a job's validation reads first) says so too
        Path stub = write("stub.csv.gz", java.util.Arrays.copyOf(gz, 12), false);
        e = assertThrows(IOException.class, () -> CsvReader.header(stub));
        assertTrue(e.getMessage().startsWith(stub + ": its gzip data are damaged or cut short"), e.getMessage());
    }

    @Test
    void minMaxScalesIntoTheUnitInterval() {
        Dataset d = new Dataset(new float[] {2, 5, 4, 5, 6, 5}, new int[] {0, 1, 0}, 2, 2);
        Normalization.fit(Normalization.Kind.MIN_MAX, d).applyInPlace(d);
        assertArrayEquals(new float[] {0, 0, 0.5f, 0, 1, 0}, d.features(), 0f);
    }
}
