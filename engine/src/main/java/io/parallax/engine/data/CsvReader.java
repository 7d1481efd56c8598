package io.parallax.engine.data;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.EOFException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads a comma-separated file (gzipped or not) with a header row: every column but the label column is a numeric
 * feature; the label column holds class names or numbers. Classes are numbered in sorted order
 * of their names (numerically when all are numbers, and then {@code 1} and {@code 1.0} are one
 * class), like scikit-learn's LabelEncoder. An empty label, one pandas reads as missing
 * ({@code NaN}, {@code NA}, {@code null}, {@code None}, …), a fractional numeric label, a column
 * named twice in the header and a value beyond float32's range are refused. UTF-8 only (a leading byte-order mark is
 * skipped); cells may be double-quoted to hold commas and line breaks, and a quote left open
 * is refused.
 */
public final class CsvReader {

    /** A dataset and the class names its label indices stand for. */
    public record LabelledCsv(Dataset dataset, List<String> featureNames, List<String> classNames) {}

    /** Label spellings pandas reads as a missing value: its default na_values, case and all ("Na" is sodium). */
    private static final Set<String> MISSING = Set.of("#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
            "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null");

    /**
     * The longest record a quoted cell may stretch over several lines to: an unclosed quote
     * early in a large file is refused here rather than swallowing the rest of the file.
     */
    private static final int MAX_RECORD_CHARS = 1 << 20;

    private CsvReader() {}

    /**
     * The column names of the header row, without reading the data: lets a caller check a label
     * column before loading the whole file.
     */
    public static List<String> header(Path path) throws IOException {
        requireRegularFile(path);
        try (BufferedReader in = open(path)) {
            return headerNames(in, path, new int[1]);
        } catch (EOFException | ZipException e) {
            throw damaged(path, e);
        } catch (CharacterCodingException e) {
            throw notUtf8(path, e);
        }
    }

    /**
     * The column names; every column needs one, and only commas separate them. {@code lineCount[0]}
     * is set to the lines the header took (more than one if a quoted name holds a line break).
     */
    private static List<String> headerNames(BufferedReader in, Path path, int[] lineCount) throws IOException {
        String header = headerLine(in, path);
        lineCount[0] = 1;
        List<String> names = record(header, in, lineCount, path);
        if (names.size() == 1) {
            for (String separator : new String[] {";", "\t", "|"}) {
                if (header.contains(separator)) {
                    throw new IOException(path + ": the header is one column, '" + header.replace("\t", "\\t")
                            + "': only commas separate columns here (this file seems to use '"
                            + separator.replace("\t", "\\t") + "')");
                }
            }
        }
        int unnamed = names.indexOf("");
        if (unnamed >= 0) {
            throw new IOException(path + ": column " + (unnamed + 1) + " of " + names.size() + " has no name in the "
                    + "header (a trailing comma, or a pandas index: write the file with index=False)");
        }
        return names;
    }

    /** The header row, without the byte-order mark that Excel's "CSV UTF-8" puts before it. */
    private static String headerLine(BufferedReader in, Path path) throws IOException {
        String header = in.readLine();
        if (header != null && header.startsWith("\uFEFF")) {
            header = header.substring(1);
        }
        if (header == null || header.isBlank()) {
            throw new IOException(path + " is empty: expected a header row naming the columns");
        }
        return header;
    }

    /** A replacement character would silently merge classes such as "café" and "cafè". */
    private static IOException notUtf8(Path path, CharacterCodingException e) {
        return new IOException(path + " is not UTF-8 text (" + e.getMessage() + "); save it as UTF-8", e);
    }

    /** GZIPInputStream's own words name no file, and an early end has none at all. */
    private static IOException damaged(Path path, IOException e) {
        return new IOException(path + ": its gzip data are damaged or cut short"
                + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")"), e);
    }

    public static LabelledCsv read(Path path, String labelColumn) throws IOException {
        return read(path, labelColumn, List.of());
    }

    /**
     * As {@link #read(Path, String)}, leaving out the columns named in {@code ignored} (neither
     * features nor the label; their cells are not read).
     *
     * @throws IOException also if a column in {@code ignored} is not in the header, or is the label
     */
    public static LabelledCsv read(Path path, String labelColumn, java.util.Collection<String> ignored)
            throws IOException {
        requireRegularFile(path);
        try {
            return readRows(path, labelColumn, List.copyOf(ignored));
        } catch (EOFException | ZipException e) {
            throw damaged(path, e);
        } catch (CharacterCodingException e) {
            throw notUtf8(path, e);
        }
    }

    private static LabelledCsv readRows(Path path, String labelColumn, List<String> ignored)
            throws IOException {
        try (BufferedReader in = open(path)) {
            int[] lineCount = new int[1];
            List<String> names = headerNames(in, path, lineCount);
            int labelIndex = names.indexOf(labelColumn);
            if (labelIndex < 0) {
                throw new IOException(path + " has no column '" + labelColumn + "'; its columns: " + names);
            }
            if (names.lastIndexOf(labelColumn) != labelIndex) {
                throw new IOException(path + ": the header names '" + labelColumn + "' twice (columns "
                        + (labelIndex + 1) + " and " + (names.lastIndexOf(labelColumn) + 1) + "); which is the label?");
            }
            if (ignored.contains(labelColumn)) {
                throw new IOException("'" + labelColumn + "' is the label column; it cannot be ignored too");
            }
            boolean[] skip = new boolean[names.size()];
            for (String column : ignored) {
                int c = names.indexOf(column);
                if (c < 0) {
                    throw new IOException(path + " has no column '" + column + "' to ignore; its columns: " + names);
                }
                skip[c] = true;
            }
            skip[labelIndex] = true;
            List<String> featureNames = new ArrayList<>();
            for (int c = 0; c < names.size(); c++) {
                if (!skip[c]) {
                    featureNames.add(names.get(c));
                }
            }
            // the model file names its inputs by column, and a validation file's columns are
            // matched by name: a name given twice would make both ambiguous
            java.util.Map<String, Integer> seen = new java.util.HashMap<>();
            for (int c = 0; c < names.size(); c++) {
                Integer first = seen.putIfAbsent(names.get(c), c);
                if (first != null) {
                    throw new IOException(path + ": the header names '" + names.get(c) + "' twice (columns "
                            + (first + 1) + " and " + (c + 1) + "); give every column a name of its own");
                }
            }
            int width = featureNames.size();
            if (width == 0) {
                throw new IOException(path + " has no feature columns besides the label '" + labelColumn + "'"
                        + (ignored.isEmpty() ? "" : " and the ignored " + ignored));
            }
            // float64 as pandas reads it: normalisation scales these before rounding to float32
            double[] exact = new double[Math.max(width, 1024)];
            int values = 0;
            List<String> labels = new ArrayList<>();
            String line;
            while ((line = in.readLine()) != null) {
                int lineNo = ++lineCount[0];
                if (line.isBlank()) {
                    continue;
                }
                List<String> cells = record(line, in, lineCount, path);
                if (cells.size() != names.size()) {
                    throw new IOException(path + ":" + lineNo + ": " + cells.size() + " columns, the header has " + names.size());
                }
                if (exact.length - values < width) {
                    exact = Arrays.copyOf(exact, Math.toIntExact(Math.min(Integer.MAX_VALUE - 8,
                            exact.length + (long) exact.length / 2 + width)));
                    if (exact.length - values < width) {
                        throw new IOException(path + ":" + lineNo + ": more values than one dataset holds ("
                                + values + ")");
                    }
                }
                int k = values;
                for (int c = 0; c < cells.size(); c++) {
                    if (skip[c]) {
                        continue;
                    }
                    String cell = cells.get(c);
                    try {
                        exact[k] = Double.parseDouble(decimal(cell));
                    } catch (NumberFormatException e) {
                        throw new IOException(path + ":" + lineNo + ": column '" + names.get(c) + "' holds '" + cell
                                + "', not a number", e);
                    }
                    if (!Double.isFinite(exact[k])) {
                        throw new IOException(path + ":" + lineNo + ": column '" + names.get(c) + "' holds '" + cell
                                + "', not a finite number");
                    }
                    if (!Float.isFinite((float) exact[k])) {
                        throw new IOException(path + ":" + lineNo + ": column '" + names.get(c) + "' holds " + cell
                                + ", beyond float32's range (±3.4e38) that the model computes in: scale the column "
                                + "down before training");
                    }
                    k++;
                }
                String label = cells.get(labelIndex);
                if (label.isEmpty()) {
                    throw new IOException(path + ":" + lineNo + ": the label column '" + labelColumn + "' is empty");
                }
                if (MISSING.contains(label)) {
                    throw new IOException(path + ":" + lineNo + ": the label column '" + labelColumn + "' holds '"
                            + label + "', which reads as a missing value (as pandas reads it), not a class");
                }
                values = k;
                labels.add(label);
            }
            if (labels.isEmpty()) {
                throw new IOException(path + " has a header but no data rows");
            }
            canonicalNumbers(labels, path, labelColumn);
            List<String> classNames = classNames(labels);
            Map<String, Integer> index = new TreeMap<>();
            for (int i = 0; i < classNames.size(); i++) {
                index.put(classNames.get(i), i);
            }
            if (exact.length != values) {
                exact = Arrays.copyOf(exact, values);
            }
            float[] features = new float[values];
            int[] y = new int[labels.size()];
            for (int r = 0; r < y.length; r++) {
                y[r] = index.get(labels.get(r));
            }
            for (int i = 0; i < values; i++) {
                features[i] = (float) exact[i];
            }
            return new LabelledCsv(new Dataset(features, exact, y, width, classNames.size()), featureNames,
                    classNames);
        }
    }

    private static void requireRegularFile(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            throw new IOException(path + " is a folder, not a CSV file");
        }
        if (Files.exists(path) && !Files.isRegularFile(path)) {
            throw new IOException(path + " is not a regular file (a device or a pipe?), not a CSV file");
        }
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "CSV file not found");
        }
    }

    /** A reader over the file, gunzipped when it starts with the gzip magic bytes. */
    private static BufferedReader open(Path path) throws IOException {
        InputStream raw = new BufferedInputStream(Files.newInputStream(path), 1 << 16);
        raw.mark(2);
        boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
        raw.reset();
        InputStream in = gzip ? new GZIPInputStream(raw, 1 << 16) : raw;
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        return new BufferedReader(new InputStreamReader(in, utf8), 1 << 16);
    }

    /**
     * When every label is a number, writes whole numbers as integers ({@code 1.0} and {@code 1}
     * are one class, as pandas reads them), and refuses a fraction: a label such as {@code 1.5}
     * means a regression target or the wrong column, not a class.
     */
    private static void canonicalNumbers(List<String> labels, Path path, String labelColumn) throws IOException {
        double[] values = new double[labels.size()];
        for (int i = 0; i < values.length; i++) {
            try {
                values[i] = Double.parseDouble(labels.get(i));
            } catch (NumberFormatException e) {
                return;
            }
            if (!Double.isFinite(values[i])) {
                return;
            }
        }
        for (int i = 0; i < values.length; i++) {
            double v = values[i];
            if (v != Math.rint(v)) {
                throw new IOException(path + ": the label column '" + labelColumn + "' holds " + labels.get(i)
                        + ", which is no class: numeric labels must be whole numbers (is it a regression target,"
                        + " or the wrong column?)");
            }
            if (Math.abs(v) > 1e15) {
                // beyond 2^53 a double no longer tells neighbouring whole numbers apart
                throw new IOException(path + ": the label column '" + labelColumn + "' holds " + labels.get(i)
                        + ", too large to tell apart from its neighbours as a class; numeric labels must be at most"
                        + " 10^15 in size (or give classes names)");
            }
            labels.set(i, Long.toString((long) v));
        }
    }

    private static List<String> classNames(List<String> labels) {
        TreeSet<String> distinct = new TreeSet<>(labels);
        boolean numeric = distinct.stream().allMatch(s -> s.matches("-?\\d+"));
        List<String> sorted = new ArrayList<>(distinct);
        if (numeric) {
            sorted.sort((a, b) -> Long.compare(Long.parseLong(a), Long.parseLong(b)));
        }
        return sorted;
    }

    /**
     * The cell if it is written as a decimal number ({@code 12}, {@code -0.5}, {@code 1e5}); Java's
     * parser alone would also take {@code 2f}, {@code 6d}, {@code 0x1p3} and {@code Infinity}.
     */
    private static String decimal(String cell) {
        for (int i = 0; i < cell.length(); i++) {
            char ch = cell.charAt(i);
            if (!(ch >= '0' && ch <= '9' || ch == '.' || ch == '-' || ch == '+' || ch == 'e' || ch == 'E')) {
                throw new NumberFormatException(cell);
            }
        }
        return cell;
    }

    /**
     * The cells of the record that starts with {@code line} (line {@code lineNo[0]}): a quoted
     * cell may hold line breaks, as RFC 4180 and pandas allow, and then the record takes in the
     * following lines, counted in {@code lineNo[0]}. A quote still open at the end of the file is
     * refused, naming the line where the record began (pandas: "EOF inside string").
     */
    private static List<String> record(String line, BufferedReader in, int[] lineNo, Path path) throws IOException {
        boolean[] open = {false};
        List<String> cells = split(line, open);
        if (!open[0]) {
            return cells;
        }
        int first = lineNo[0];
        StringBuilder record = new StringBuilder(line);
        boolean inside = true;
        while (inside) {
            String next = in.readLine();
            if (next == null) {
                throw new IOException(path + ":" + first + ": a quoted cell opened on this line is never closed "
                        + "(a missing '\"'?)");
            }
            lineNo[0]++;
            record.append('\n').append(next);
            if (record.length() > MAX_RECORD_CHARS) {
                throw new IOException(path + ":" + first + ": a quoted cell opened on this line is still open "
                        + (lineNo[0] - first) + " lines later, past " + MAX_RECORD_CHARS + " characters (a missing "
                        + "'\"'?)");
            }
            // each joining line is scanned once: re-splitting the record per line would be quadratic
            inside = endsInsideQuote(next);
        }
        return split(record.toString(), null);
    }

    /**
     * Whether a line that starts inside a quoted cell ends inside one, read as {@code split}
     * reads: {@code ""} is a quote within the cell, a lone {@code "} closes it, and after a comma
     * (and spaces) a {@code "} opens the next cell's quotes.
     */
    private static boolean endsInsideQuote(String line) {
        int n = line.length();
        int i = 0;
        boolean inside = true;
        while (i < n) {
            if (inside) {
                int quote = line.indexOf('"', i);
                if (quote < 0) {
                    return true;
                }
                if (quote + 1 < n && line.charAt(quote + 1) == '"') {
                    i = quote + 2;
                } else {
                    inside = false;
                    i = quote + 1;
                }
            } else {
                int comma = line.indexOf(',', i);
                if (comma < 0) {
                    return false;
                }
                i = comma + 1;
                while (i < n && line.charAt(i) == ' ') {
                    i++;
                }
                if (i < n && line.charAt(i) == '"') {
                    inside = true;
                    i++;
                }
            }
        }
        return inside;
    }

    /**
     * A quoted cell trimmed as an unquoted one is, but for its line breaks, which are the cell's
     * own: {@code "cat\n"} is not {@code cat} (pandas keeps them too).
     */
    private static String trimKeepingLineBreaks(CharSequence cell) {
        int from = 0;
        int to = cell.length();
        while (from < to && trimmed(cell.charAt(from))) {
            from++;
        }
        while (to > from && trimmed(cell.charAt(to - 1))) {
            to--;
        }
        return cell.subSequence(from, to).toString();
    }

    private static boolean trimmed(char ch) {
        return ch <= ' ' && ch != '\n' && ch != '\r';
    }

    /**
     * The cells of one record: comma-separated, each trimmed; a cell in double quotes may hold
     * commas (and line breaks: see {@link #record}), and {@code ""} inside it stands for one quote
     * (RFC 4180). {@code open[0]} (when given) is set to whether the text ended inside a quoted
     * cell, whose record then goes on with the next line.
     */
    private static List<String> split(String line, boolean[] open) {
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        int i = 0;
        int n = line.length();
        while (true) {
            while (i < n && line.charAt(i) == ' ') {
                i++;
            }
            if (i < n && line.charAt(i) == '"') {
                i++;
                boolean closed = false;
                while (i < n) {
                    char ch = line.charAt(i++);
                    if (ch == '"') {
                        if (i < n && line.charAt(i) == '"') {
                            cell.append('"');
                            i++;
                        } else {
                            closed = true;
                            break;
                        }
                    } else {
                        cell.append(ch);
                    }
                }
                if (!closed && open != null) {
                    open[0] = true;
                }
                // anything between the closing quote and the comma is kept, as before
                while (i < n && line.charAt(i) != ',') {
                    cell.append(line.charAt(i++));
                }
                cells.add(trimKeepingLineBreaks(cell));
            } else {
                int comma = line.indexOf(',', i);
                int end = comma < 0 ? n : comma;
                cells.add(line.substring(i, end).trim());
                i = end;
            }
            cell.setLength(0);
            if (i >= n) {
                return cells;
            }
            i++; // the comma
        }
    }
}
