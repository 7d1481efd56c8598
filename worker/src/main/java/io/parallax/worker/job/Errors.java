package io.parallax.worker.job;

import java.util.ArrayList;
import java.util.List;

/** Collects {@link FieldError}s with the range checks the validator repeats. NaN fails every check. */
final class Errors {

    private final List<FieldError> list = new ArrayList<>();

    void add(String field, String message) {
        list.add(new FieldError(field, message));
    }

    boolean isEmpty() {
        return list.isEmpty();
    }

    int size() {
        return list.size();
    }

    List<FieldError> list() {
        return List.copyOf(list);
    }

    void throwIfAny() {
        if (!list.isEmpty()) {
            throw new InvalidJobException(list);
        }
    }

    void positive(String field, double v) {
        if (!(v > 0) || Double.isInfinite(v)) {
            add(field, "must be > 0, got " + format(v));
        }
    }

    void nonNegative(String field, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            add(field, "must be ≥ 0, got " + format(v));
        }
    }

    void nonPositive(String field, double v) {
        if (!(v <= 0) || Double.isInfinite(v)) {
            add(field, "must be ≤ 0, got " + format(v));
        }
    }

    void finite(String field, double v) {
        if (!Double.isFinite(v)) {
            add(field, "must be a finite number, got " + format(v));
        }
    }

    /** In [0, 1). */
    void unitOpen(String field, double v) {
        if (!(v >= 0 && v < 1)) {
            add(field, "must be in [0, 1), got " + format(v));
        }
    }

    /** In [0, 1]. */
    void unitClosed(String field, double v) {
        if (!(v >= 0 && v <= 1)) {
            add(field, "must be in [0, 1], got " + format(v));
        }
    }

    /** In (0, 1]. */
    void fraction(String field, double v) {
        if (!(v > 0 && v <= 1)) {
            add(field, "must be in (0, 1], got " + format(v));
        }
    }

    void atLeast(String field, long min, long v) {
        if (v < min) {
            add(field, "must be ≥ " + min + ", got " + v);
        }
    }

    void atMost(String field, long max, long v) {
        if (v > max) {
            add(field, "must be ≤ " + max + ", got " + v);
        }
    }

    /** {@code -1} rather than {@code -1.0}: values as a user wrote them. */
    static String format(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }
}
