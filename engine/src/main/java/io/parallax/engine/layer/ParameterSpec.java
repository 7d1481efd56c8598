package io.parallax.engine.layer;

import io.parallax.engine.init.Initializer;
import io.parallax.engine.tensor.Shapes;

/**
 * One tensor a layer owns: its PyTorch name within the layer ({@code weight}, {@code bias},
 * {@code running_mean}…), shape, initializer and fans.
 */
public record ParameterSpec(String name, int[] shape, Initializer initializer, int fanIn, int fanOut) {

    public ParameterSpec {
        shape = shape.clone();
        Shapes.size(shape);
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    public int size() {
        return (int) Shapes.size(shape);
    }
}
