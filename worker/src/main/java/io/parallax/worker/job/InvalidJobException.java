package io.parallax.worker.job;

import java.util.List;

/**
 * A job that cannot run, with every problem found: thrown by {@link JobFiles}, {@link JobValidator}
 * and {@link JobPlan#load} before anything trains. The job service maps it to gRPC's
 * {@code INVALID_ARGUMENT} with {@link #getMessage()} as the description; the message holds
 * one {@code field: problem} line per error.
 */
public final class InvalidJobException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final List<FieldError> errors;

    /** @param errors at least one */
    public InvalidJobException(List<FieldError> errors) {
        this(errors, null);
    }

    public InvalidJobException(List<FieldError> errors, Throwable cause) {
        super(message(errors), cause);
        this.errors = List.copyOf(errors);
    }

    /** A job with a single problem. */
    public static InvalidJobException of(String field, String message) {
        return new InvalidJobException(List.of(new FieldError(field, message)));
    }

    /**
     * The same problems, each naming the job file they are in ({@code job.json: loss: …}), so
     * that every message about a file says which, whichever check found it.
     */
    public InvalidJobException inFile(java.nio.file.Path file) {
        List<FieldError> named = new java.util.ArrayList<>();
        for (FieldError f : errors) {
            named.add(f.field().equals("job") ? new FieldError("job", file + ": " + f.message())
                    : new FieldError(file + ": " + f.field(), f.message()));
        }
        return new InvalidJobException(named, getCause() != null ? getCause() : this);
    }

    /** Every problem, in the order the fields appear in the job. */
    public List<FieldError> errors() {
        return errors;
    }

    private static String message(List<FieldError> errors) {
        if (errors.isEmpty()) {
            throw new IllegalArgumentException("an invalid job needs at least one error");
        }
        if (errors.size() == 1) {
            return "invalid job: " + errors.get(0);
        }
        StringBuilder sb = new StringBuilder("invalid job (").append(errors.size()).append(" problems):");
        for (FieldError e : errors) {
            sb.append("\n  ").append(e);
        }
        return sb.toString();
    }
}
