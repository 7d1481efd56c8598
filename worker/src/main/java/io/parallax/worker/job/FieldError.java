package io.parallax.worker.job;

/**
 * One problem with a job, tied to the field that causes it.
 *
 * @param field   the field's path in the {@code JobSpec}, with proto (snake_case) names and list
 *                indices, e.g. {@code model.layers[2].dropout.p}; {@code job} for the whole job
 *                (a file that is not valid JSON, say)
 * @param message what is wrong and, where it is known, what is allowed:
 *                {@code must be > 0, got -1}
 */
public record FieldError(String field, String message) {

    public FieldError {
        if (field == null || field.isEmpty() || message == null || message.isEmpty()) {
            throw new IllegalArgumentException("a field error needs a field and a message, got " + field + ": " + message);
        }
    }

    /** {@code field: message}, the form users see (the message alone for the whole file, {@code job}). */
    @Override
    public String toString() {
        // "job" is the whole file (not JSON, a field unknown): its message says what it is about
        return field.equals("job") ? message : field + ": " + message;
    }
}
