package io.parallax.worker.job;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.parallax.proto.v1.DataSource;
import io.parallax.proto.v1.JobSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * Job files: a {@link JobSpec} in protobuf's JSON mapping ({@link JsonFormat}), with the field
 * names of {@code job.proto} (snake_case; lowerCamelCase is accepted too). Parsing is strict: an
 * unknown field is an error naming it, so a misspelt hyperparameter never silently keeps its
 * default. Parsing checks the syntax only; {@link JobValidator} checks the values.
 */
public final class JobFiles {

    /** The longest job file read: far above any real job, far below a data set named by mistake. */
    static final int MAX_BYTES = 16 << 20;
    private static final Pattern JAVA_CLASS_PREFIX =
            Pattern.compile("(?:[a-z][a-z0-9_]*\\.)+[A-Z]\\w*(?:Exception|Error): ");
    /** protobuf's words for two fields of one oneof, with its message type names. */
    private static final Pattern ONEOF_CLASH = Pattern.compile("Cannot set field [\\w.]*\\.(\\w+)\\.(\\w+) because "
            + "another field [\\w.]*\\.\\w+\\.(\\w+) belonging to the same oneof has already been set");

    /** protobuf's words for a field given in both its spellings (batch_size and batchSize). */
    private static final Pattern SET_TWICE = Pattern.compile("Field [\\w.]*\\.(\\w+)\\.(\\w+) has already been set\\.?");

    private JobFiles() {}

    /**
     * Parses a job from JSON.
     *
     * @throws InvalidJobException if the text is not JSON (field {@code job}, the parser's message
     *     naming the place), or has unknown fields or values of the wrong type (each by its path)
     */
    public static JobSpec parse(String json) {
        JobSpec.Builder b = JobSpec.newBuilder();
        try {
            JsonFormat.parser().merge(json, b);
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            // the parser names one problem, without its path: name them all, where each is
            java.util.List<FieldError> problems = JsonFieldCheck.problems(json, JobSpec.getDescriptor());
            if (!problems.isEmpty()) {
                throw new InvalidJobException(problems, e);
            }
            // JsonFormat reports malformed JSON as an unchecked Gson exception, in Gson's words and
            // often a line late: Jackson's parser says where, and the common slips get plain words
            String syntax = JsonShape.syntaxProblem(json);
            throw new InvalidJobException(java.util.List.of(new FieldError("job",
                    "not a valid job file: " + (syntax != null ? syntax : describe(e)))), e);
        }
        // JsonFormat reads the first value and stops, and lets a repeated key overwrite the
        // first: a job with "epochs" twice, or a second object pasted after the first, must not
        // run as something its author did not see
        String problem = JsonShape.problem(json);
        if (problem != null) {
            throw new InvalidJobException(java.util.List.of(new FieldError("job", "not a valid job file: " + problem)));
        }
        return b.build();
    }

    /**
     * Reads a job file. Relative paths in it (data files, {@code init_from}) are made absolute
     * against the file's own folder, so {@code examples/digits.json} can name
     * {@code data/digits.csv.gz} and work from any working directory.
     *
     * @throws IOException if the file cannot be read
     * @throws InvalidJobException as {@link #parse}, the message naming the file
     */
    public static JobSpec read(Path file) throws IOException {
        String json = text(file);
        JobSpec spec;
        try {
            spec = parse(json);
        } catch (InvalidJobException e) {
            throw e.inFile(file);
        }
        Path base = file.toAbsolutePath().getParent();
        return resolvePaths(spec, p -> p.isEmpty() ? p : base.resolve(p).normalize().toString());
    }

    /** The file's text: UTF-8, at most {@link #MAX_BYTES}. */
    private static String text(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw invalidFile(file, "a folder, not a job file");
        }
        byte[] bytes;
        // bounded, so that /dev/zero or a data set named by mistake is refused, not read whole
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        }
        if (bytes.length > MAX_BYTES) {
            throw invalidFile(file, "longer than " + (MAX_BYTES >> 20) + " MiB; a job file is a few KB of JSON");
        }
        try {
            String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            // the byte-order mark some Windows editors put first is no part of the JSON
            return text.startsWith("\uFEFF") ? text.substring(1) : text;
        } catch (CharacterCodingException e) {
            throw invalidFile(file, "not UTF-8 text; a job file is a JSON JobSpec (see examples/)");
        }
    }

    private static InvalidJobException invalidFile(Path file, String why) {
        return new InvalidJobException(java.util.List.of(new FieldError("job", file + ": " + why)));
    }

    /** The job as JSON with proto field names, the form {@link #parse} reads back. */
    public static String toJson(JobSpec spec) {
        try {
            return JsonFormat.printer().preservingProtoFieldNames().print(spec);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("a JobSpec always prints as JSON", e);
        }
    }

    /** A copy of {@code spec} with every path field passed through {@code resolve}. */
    static JobSpec resolvePaths(JobSpec spec, UnaryOperator<String> resolve) {
        JobSpec.Builder b = spec.toBuilder();
        if (spec.hasModel() && !spec.getModel().getInitFrom().isEmpty()) {
            b.getModelBuilder().setInitFrom(resolve.apply(spec.getModel().getInitFrom()));
        }
        if (spec.hasData()) {
            if (spec.getData().hasTrain()) {
                b.getDataBuilder().setTrain(resolvePaths(spec.getData().getTrain(), resolve));
            }
            if (spec.getData().hasValidation()) {
                b.getDataBuilder().setValidation(resolvePaths(spec.getData().getValidation(), resolve));
            }
        }
        return b.build();
    }

    private static DataSource resolvePaths(DataSource source, UnaryOperator<String> resolve) {
        DataSource.Builder b = source.toBuilder();
        switch (source.getKindCase()) {
            case IDX -> b.getIdxBuilder().setImages(resolve.apply(source.getIdx().getImages()))
                    .setLabels(resolve.apply(source.getIdx().getLabels()));
            case CSV -> b.getCsvBuilder().setPath(resolve.apply(source.getCsv().getPath()));
            case IMAGE_FOLDER -> b.getImageFolderBuilder().setPath(resolve.apply(source.getImageFolder().getPath()));
            case KIND_NOT_SET -> { }
            default -> throw new IllegalStateException("unhandled data source " + source.getKindCase());
        }
        return b.build();
    }

    private static String describe(Exception e) {
        String m = e.getMessage();
        Throwable c = e.getCause();
        // Gson wraps the useful part ("Unterminated object at line 3 column 5") in a cause
        if (c != null && c.getMessage() != null && (m == null || !m.contains(c.getMessage()))) {
            m = (m == null ? "" : m + ": ") + c.getMessage();
        }
        if (m == null) {
            return e.getClass().getSimpleName();
        }
        // "java.io.EOFException: End of input at line 1 column 24": the class name says nothing to a user
        m = JAVA_CLASS_PREFIX.matcher(m).replaceAll("");
        // Gson appends "See https://github.com/google/gson/…Troubleshooting.md…": not the user's library
        m = m.replaceAll("\\s*See https://github\\.com/google/gson/\\S*", "");
        // "Cannot set field parallax.v1.ClippingSpec.clip_value because another field …max_norm
        // belonging to the same oneof …": in the job's words
        m = ONEOF_CLASH.matcher(m).replaceAll("'$3' and '$2' are alternatives ($1): give one of them");
        // "Field parallax.v1.JobSpec.batch_size has already been set.": one field in both spellings
        return SET_TWICE.matcher(m).replaceAll("'$2' is given twice in $1 (as $2 and in lowerCamelCase, both the same "
                + "field): keep one").strip();
    }
}
