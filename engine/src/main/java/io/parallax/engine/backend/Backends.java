package io.parallax.engine.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds backends with {@link ServiceLoader}. {@link #getDefault()} returns the available backend
 * of highest priority (CPU when nothing else is present), or the one named by the system
 * property {@code parallax.backend}. Each backend is created once per JVM.
 */
public final class Backends {

    /** System property that names the backend to use instead of the highest-priority one. */
    public static final String BACKEND_PROPERTY = "parallax.backend";

    private static final Map<String, Backend> CREATED = new ConcurrentHashMap<>();

    private Backends() {}

    /** Every provider on the class path, available or not, highest priority first. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> all = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader()).forEach(all::add);
        all.sort(Comparator.comparingInt(BackendProvider::priority).reversed());
        return all;
    }

    /** The backend named by {@code parallax.backend}, else the best available one. */
    public static Backend getDefault() {
        String wanted = System.getProperty(BACKEND_PROPERTY);
        if (wanted != null && !wanted.isBlank()) {
            return get(wanted.trim());
        }
        for (BackendProvider p : providers()) {
            if (p.isAvailable()) {
                return CREATED.computeIfAbsent(p.name(), n -> p.create());
            }
        }
        throw new IllegalStateException("no compute backend is available; the CPU backend "
                + "(parallax-engine) should always be on the class path");
    }

    /** The backend called {@code name}; fails with the list of known names when it is missing. */
    public static Backend get(String name) {
        List<String> known = new ArrayList<>();
        for (BackendProvider p : providers()) {
            known.add(p.name() + (p.isAvailable() ? "" : " (unavailable here)"));
            if (p.name().equalsIgnoreCase(name)) {
                if (!p.isAvailable()) {
                    throw new IllegalStateException("backend '" + name + "' is not available on this machine");
                }
                return CREATED.computeIfAbsent(p.name(), n -> p.create());
            }
        }
        throw new IllegalArgumentException("unknown backend '" + name + "'; known: " + known);
    }

    /** The CPU backend (always present). */
    public static Backend cpu() {
        return get("cpu");
    }
}
