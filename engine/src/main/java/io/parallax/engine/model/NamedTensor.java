package io.parallax.engine.model;

import io.parallax.engine.layer.Layer;
import io.parallax.engine.tensor.Tensor;

/**
 * A tensor of a model under its PyTorch {@code state_dict} name ({@code "0.weight"}), with the
 * layer that owns it.
 */
public record NamedTensor(String name, Tensor tensor, Layer layer) {}
