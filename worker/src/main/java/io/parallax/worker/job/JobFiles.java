package io.parallax.worker.job;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.parallax.proto.v1.DataSource;
import io.parallax.proto.v1.JobSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * Job files: a {@link JobSpec} in protobuf's JSON mapping ({@link JsonFormat}), with the field
 * names of {@code job.proto} (snake_case; lowerCamelCase is accepted too). Parsing is strict: an
 * unknown field is an error naming it, so a misspelt hyperparameter never silently keeps its
 * default. Parsing checks the syntax only; {@link JobValidator} checks the values.
 */
public final class JobFiles {

    private JobFiles() {}

    /**
     * Parses a job from JSON.
     *
     * @throws InvalidJobException (field {@code job}) if the text is not JSON, has an unknown field
     *     or a value of the wrong type, with the parser's message naming it
     */
    public static JobSpec parse(String json) {
        JobSpec.Builder b = JobSpec.newBuilder();
        try {
            JsonFormat.parser().merge(json, b);
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            // JsonFormat reports malformed JSON as an unchecked Gson exception
            throw new InvalidJobException(java.util.List.of(new FieldError("job",
                    "not a valid job file: " + describe(e))), e);
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
        String json = Files.readString(file, StandardCharsets.UTF_8);
        JobSpec spec;
        try {
            spec = parse(json);
        } catch (InvalidJobException e) {
            throw new InvalidJobException(java.util.List.of(new FieldError("job",
                    file + ": " + e.errors().get(0).message())), e.getCause());
        }
        Path base = file.toAbsolutePath().getParent();
        return resolvePaths(spec, p -> p.isEmpty() ? p : base.resolve(p).normalize().toString());
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
        return m == null ? e.getClass().getSimpleName() : m;
    }
}
