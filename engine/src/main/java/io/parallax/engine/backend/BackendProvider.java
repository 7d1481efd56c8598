package io.parallax.engine.backend;

/**
 * The {@link java.util.ServiceLoader} entry point of a backend. Providers are listed in
 * {@code META-INF/services/io.parallax.engine.backend.BackendProvider}.
 */
public interface BackendProvider {

    /** The name users select the backend by, e.g. {@code "cpu"} or {@code "cuda"}. */
    String name();

    /** Higher wins when no backend is named; the CPU backend has priority 0. */
    int priority();

    /**
     * Whether the backend can run here (its native library loads, a device is present). Must not
     * throw: a missing driver is an answer of {@code false}.
     */
    boolean isAvailable();

    /** Creates the backend; called only when {@link #isAvailable()} is true. */
    Backend create();
}
