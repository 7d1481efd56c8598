package io.parallax.engine.optim;

import io.parallax.engine.model.NamedTensor;
import io.parallax.engine.model.Sequential;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * The layout of a flat parameter vector as consecutive named segments (typically one per layer
 * tensor, {@code "0.weight"}, {@code "0.bias"}, …) with per-segment optimizer settings: the
 * counterpart of PyTorch's parameter groups.
 *
 * <ul>
 *   <li>{@code lrScale}: the segment's learning rate is the optimizer's base rate times this
 *       (a smaller rate for a pretrained body);
 *   <li>{@code weightDecay}: false switches the optimizer's weight decay (for FTRL: its L1, L2
 *       and L2-shrinkage regularisation) off for the segment, as is usual for biases and
 *       normalisation parameters;
 *   <li>{@code frozen}: the segment is never updated and gets no optimizer state.
 * </ul>
 *
 * <p>Instances are immutable; the {@code with…} methods return a changed copy. An optimizer
 * fixes its layout when it is built.
 *
 * <pre>{@code
 * ParameterGroups groups = ParameterGroups.of(model)
 *         .withoutWeightDecay(ParameterGroups.oneDimensional())   // biases, norm weights
 *         .withLearningRateScale(ParameterGroups.layers(0, 2), 0.1);
 * }</pre>
 */
public final class ParameterGroups {

    /**
     * One range {@code [offset, offset + length)} of the flat vector.
     *
     * @param rank the tensor's number of axes (1 for biases and norm weights, 2 for a Linear
     *     weight), used by {@link #oneDimensional()}
     */
    public record Segment(String name, int offset, int length, int rank, double lrScale, boolean weightDecay,
            boolean frozen) {

        /** Checks the range and the scale. */
        public Segment {
            if (offset < 0 || length < 0) {
                throw new IllegalArgumentException("segment '" + name + "' has offset " + offset + " and length "
                        + length + "; both must be >= 0");
            }
            Hyper.positive("learning-rate scale of segment '" + name + "'", lrScale);
        }

        /** One past the last element. */
        public int end() {
            return offset + length;
        }
    }

    private final List<Segment> segments;
    private final int size;
    private final int trainableSize;

    private ParameterGroups(List<Segment> segments) {
        this.segments = Collections.unmodifiableList(new ArrayList<>(segments));
        int end = 0;
        int trainable = 0;
        for (Segment s : segments) {
            if (s.offset() != end) {
                throw new IllegalArgumentException("segment '" + s.name() + "' starts at " + s.offset()
                        + " but the previous one ends at " + end + "; segments must be consecutive");
            }
            end = Math.addExact(end, s.length());
            trainable += s.frozen() ? 0 : s.length();
        }
        this.size = end;
        this.trainableSize = trainable;
    }

    /** The whole vector as one trainable segment named {@code "all"}, of rank 1. */
    public static ParameterGroups single(int size) {
        return builder().add("all", size).build();
    }

    /**
     * One segment per parameter tensor of {@code model}, in the order of its flat
     * {@link Sequential#parameters()}, named as in its state_dict; segments of frozen layers are
     * frozen.
     */
    public static ParameterGroups of(Sequential model) {
        Builder b = builder();
        long base = model.parameters().offset();
        for (NamedTensor t : model.namedParameters()) {
            if (t.tensor().offset() - base != b.end) {
                throw new IllegalStateException("parameter '" + t.name() + "' is not laid out contiguously");
            }
            b.add(t.name(), t.tensor().shape());
            if (t.layer().isFrozen()) {
                b.freezeLast();
            }
        }
        return b.build();
    }

    /** Starts a layout; segments are appended in order. */
    public static Builder builder() {
        return new Builder();
    }

    /** Appends consecutive segments with default settings (scale 1, decay on, trainable). */
    public static final class Builder {
        private final List<Segment> segments = new ArrayList<>();
        private int end;

        private Builder() {}

        /** Appends a segment for a tensor of {@code shape} (its length is the shape's product). */
        public Builder add(String name, int... shape) {
            long n = 1;
            for (int d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("segment '" + name + "' has a negative dimension " + d);
                }
                n *= d;
            }
            segments.add(new Segment(name, end, Math.toIntExact(n), shape.length, 1.0, true, false));
            end = Math.addExact(end, Math.toIntExact(n));
            return this;
        }

        private void freezeLast() {
            Segment s = segments.remove(segments.size() - 1);
            segments.add(new Segment(s.name(), s.offset(), s.length(), s.rank(), s.lrScale(), s.weightDecay(), true));
        }

        public ParameterGroups build() {
            return new ParameterGroups(segments);
        }
    }

    // ---- derived layouts ------------------------------------------------------------------

    /** A copy where the selected segments' learning rate is {@code scale} × the base rate. */
    public ParameterGroups withLearningRateScale(Predicate<Segment> which, double scale) {
        return map(which, s -> new Segment(s.name(), s.offset(), s.length(), s.rank(), scale, s.weightDecay(),
                s.frozen()));
    }

    /** A copy where the selected segments get no weight decay. */
    public ParameterGroups withoutWeightDecay(Predicate<Segment> which) {
        return map(which, s -> new Segment(s.name(), s.offset(), s.length(), s.rank(), s.lrScale(), false,
                s.frozen()));
    }

    /** A copy where the selected segments are frozen (no update, no state). */
    public ParameterGroups withFrozen(Predicate<Segment> which) {
        return map(which, s -> new Segment(s.name(), s.offset(), s.length(), s.rank(), s.lrScale(), s.weightDecay(),
                true));
    }

    private ParameterGroups map(Predicate<Segment> which, UnaryOperator<Segment> change) {
        List<Segment> out = new ArrayList<>(segments.size());
        for (Segment s : segments) {
            out.add(which.test(s) ? change.apply(s) : s);
        }
        return new ParameterGroups(out);
    }

    // ---- selectors ------------------------------------------------------------------------

    /** Segments of rank ≤ 1: biases and normalisation weights, PyTorch's usual no-decay set. */
    public static Predicate<Segment> oneDimensional() {
        return s -> s.rank() <= 1;
    }

    /** Segments of the given model layers (names {@code "<index>.…"}). */
    public static Predicate<Segment> layers(int... indices) {
        return s -> {
            for (int i : indices) {
                if (s.name().startsWith(i + ".")) {
                    return true;
                }
            }
            return false;
        };
    }

    /** Segments with exactly these names. */
    public static Predicate<Segment> named(String... names) {
        List<String> list = List.of(names);
        return s -> list.contains(s.name());
    }

    // ---- queries --------------------------------------------------------------------------

    public List<Segment> segments() {
        return segments;
    }

    /** Length of the flat vector. */
    public int size() {
        return size;
    }

    /** Elements in trainable (not frozen) segments: the length of each state buffer. */
    public int trainableSize() {
        return trainableSize;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("ParameterGroups[");
        for (int i = 0; i < segments.size(); i++) {
            Segment s = segments.get(i);
            sb.append(i == 0 ? "" : ", ").append(s.name()).append('[').append(s.offset()).append(", ").append(s.end())
                    .append(')');
            if (s.frozen()) {
                sb.append(" frozen");
            } else {
                if (s.lrScale() != 1.0) {
                    sb.append(" lr×").append(s.lrScale());
                }
                if (!s.weightDecay()) {
                    sb.append(" no-decay");
                }
            }
        }
        return sb.append(']').toString();
    }
}
