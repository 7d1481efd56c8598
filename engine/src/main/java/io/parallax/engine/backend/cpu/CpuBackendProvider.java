package io.parallax.engine.backend.cpu;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.BackendProvider;

/** Registers the CPU backend with {@link java.util.ServiceLoader}; always available. */
public final class CpuBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public boolean isAvailable() {
        return true;
    }

    @Override
    public Backend create() {
        return new CpuBackend();
    }
}
