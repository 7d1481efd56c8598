package io.parallax.engine.model;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.layer.Layer;
import io.parallax.engine.layer.ParameterSpec;
import io.parallax.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Lays out a set of per-layer tensors in one contiguous storage, in layer order, and hands out a
 * view per tensor. Data-parallel training sends, sums and updates the whole block at once.
 */
final class FlatBuffers {

    final Tensor flat;
    final List<List<Tensor>> perLayer = new ArrayList<>();
    final List<NamedTensor> named = new ArrayList<>();

    FlatBuffers(Backend backend, List<Layer> layers, Function<Layer, List<ParameterSpec>> specs) {
        long total = 0;
        for (Layer layer : layers) {
            for (ParameterSpec s : specs.apply(layer)) {
                total += s.size();
            }
        }
        flat = Tensor.wrap(backend.allocate(total));
        long offset = 0;
        for (int i = 0; i < layers.size(); i++) {
            List<Tensor> views = new ArrayList<>();
            for (ParameterSpec s : specs.apply(layers.get(i))) {
                Tensor view = flat.view(offset, s.shape());
                views.add(view);
                named.add(new NamedTensor(i + "." + s.name(), view, layers.get(i)));
                offset += s.size();
            }
            perLayer.add(views);
        }
    }
}
