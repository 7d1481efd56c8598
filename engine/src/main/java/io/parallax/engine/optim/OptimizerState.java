package io.parallax.engine.optim;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An optimizer's resumable state as plain named values, for a model file to store beside the
 * weights.
 *
 * <p>{@code tensors} hold the per-element buffers under PyTorch's state names
 * ({@code "exp_avg"}, {@code "exp_avg_sq"}, {@code "momentum_buffer"}, …), each covering the
 * trainable segments of the layout in order (frozen segments have no state);
 * {@code counters} hold {@code "step"} and {@code "skipped_steps"}; {@code scalars} hold
 * {@code "lr"} and any scalar state such as NAdam's {@code "mu_product"}.
 *
 * @param optimizer the optimizer's class name ({@code "Adam"}), checked on load
 */
public record OptimizerState(String optimizer, Map<String, float[]> tensors, Map<String, Long> counters,
        Map<String, Double> scalars) {

    /** Copies every array and map, so the record shares nothing with its source. */
    public OptimizerState {
        Map<String, float[]> t = new LinkedHashMap<>();
        tensors.forEach((k, v) -> t.put(k, v.clone()));
        tensors = Collections.unmodifiableMap(t);
        counters = Collections.unmodifiableMap(new LinkedHashMap<>(counters));
        scalars = Collections.unmodifiableMap(new LinkedHashMap<>(scalars));
    }

    /** The buffer {@code name} (not a copy: do not modify), or an error naming what exists. */
    public float[] tensor(String name) {
        float[] v = tensors.get(name);
        if (v == null) {
            throw new IllegalArgumentException(optimizer + " state has no tensor '" + name + "' (has "
                    + tensors.keySet() + ")");
        }
        return v;
    }
}
