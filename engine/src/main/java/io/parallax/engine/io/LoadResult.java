package io.parallax.engine.io;

import java.util.List;

/**
 * What a load did, by state_dict name: the tensors {@code loaded} into the model; those of the
 * loaded layers that the file lacked ({@code missing}); and the file's tensors left unused
 * ({@code unused}: later layers under partial loading, or names the model does not have).
 */
public record LoadResult(List<String> loaded, List<String> missing, List<String> unused) {

    public LoadResult {
        loaded = List.copyOf(loaded);
        missing = List.copyOf(missing);
        unused = List.copyOf(unused);
    }
}
