package io.parallax.engine.io;

/**
 * How {@link ModelFile#loadInto(io.parallax.engine.model.Sequential, java.nio.file.Path, LoadOptions)}
 * matches a file to a model.
 *
 * <ul>
 *   <li>{@code layers}: load only the model's layers {@code 0..layers−1} (−1: all). Tensors of
 *       later layers in the file are ignored, so a pretrained body can go under a new head.</li>
 *   <li>{@code strict}: a tensor of a loaded layer that the file lacks, or a file tensor that
 *       would belong to a loaded layer but that the model lacks, is an error (listing them all).
 *       Not strict, as PyTorch's {@code strict=False}: they are reported in the
 *       {@link LoadResult} instead.</li>
 * </ul>
 * A shape or dtype mismatch on a tensor both sides have is always an error.
 */
public record LoadOptions(int layers, boolean strict) {

    /** Every layer, every tensor: the file and the model must match exactly. */
    public static final LoadOptions STRICT = new LoadOptions(-1, true);

    public LoadOptions {
        if (layers < -1) {
            throw new IllegalArgumentException("layers must be −1 (all) or ≥ 0, got " + layers);
        }
    }

    /** Loads layers {@code 0..k−1} (all of their tensors must be in the file) and ignores the rest of the file. */
    public static LoadOptions firstLayers(int k) {
        if (k < 0) {
            throw new IllegalArgumentException("cannot load the first " + k + " layers");
        }
        return new LoadOptions(k, true);
    }

    /** The same, but tolerating missing and unexpected tensors (PyTorch's {@code strict=False}). */
    public LoadOptions lenient() {
        return new LoadOptions(layers, false);
    }

    /** Whether layer {@code index} is to be loaded. */
    boolean loads(int index) {
        return layers < 0 || index < layers;
    }
}
