package io.parallax.engine.optim;

import io.parallax.engine.concurrent.RangeRunner;
import io.parallax.engine.tensor.Tensor;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What every optimizer shares: the layout, the state buffers, step and skip counters, the
 * learning rate, the non-finite gradient guard, state export/import and the chunked path for
 * tensors. A subclass allocates its buffers with {@link #buffer}, prepares per-step scalars in
 * {@link #beginStep} and writes one tight loop in {@link #update}.
 *
 * <p>Why {@code update} sees one index for every array: on JDK 17, C2 vectorises a loop over
 * several {@code float[]} only when all of them are indexed by the same expression (it cannot
 * rule out that two arrays are the same object, so {@code p[o + i]} next to {@code m[i]} stays
 * scalar, about 5× slower). State is laid out over the trainable elements only, so where a
 * frozen segment shifts the state index away from the parameter index, the parameters, gradients
 * and state of a chunk are first copied into small host buffers (which stay in cache) and updated
 * there. On the tensor path, chunks of the parameters and gradients are copied into host mirrors
 * laid out as the state (two arrays of the trainable size, made on first use), so the state is
 * updated in place.
 */
abstract class FlatOptimizer implements Optimizer {

    /** Floats per chunk on the staged path: a few 16 KiB host buffers stay in L1/L2. */
    private static final int CHUNK = 4096;

    private final ParameterGroups groups;
    /** Per segment, where its state starts in every buffer; -1 for frozen segments. */
    private final int[] stateOffsets;
    /** Whether every trainable segment's state sits at its parameters' index (no frozen one before it). */
    private final boolean stateAligned;
    private final Map<String, float[]> buffers = new LinkedHashMap<>();
    private float[][] state = new float[0][];
    private double lr;
    /** The part of {@link #lr} that groups' scales do not multiply (cosine's η_min); usually 0. */
    private double lrUnscaled;
    private long step;
    private long skipped;
    private boolean skipNonFinite;
    private float[] chunkParams;
    private float[] chunkGrads;
    private float[][] chunkState;
    /** Host copies of the trainable parameters and gradients, laid out as the state (tensor path). */
    private float[] mirrorParams;
    private float[] mirrorGrads;

    FlatOptimizer(ParameterGroups groups, double lr) {
        this.groups = groups;
        this.lr = Hyper.learningRate(lr);
        this.stateOffsets = new int[groups.segments().size()];
        int offset = 0;
        boolean aligned = true;
        for (int i = 0; i < stateOffsets.length; i++) {
            ParameterGroups.Segment s = groups.segments().get(i);
            stateOffsets[i] = s.frozen() ? -1 : offset;
            offset += s.frozen() ? 0 : s.length();
            aligned &= s.frozen() || stateOffsets[i] == s.offset();
        }
        this.stateAligned = aligned;
    }

    /**
     * Allocates a state buffer over the trainable elements, filled with {@code initial}, and
     * returns its slot: {@link #update} finds it at {@code state[slot]}.
     */
    final int buffer(String name, float initial) {
        float[] b = new float[groups.trainableSize()];
        if (initial != 0f) {
            Arrays.fill(b, initial);
        }
        buffers.put(name, b);
        state = buffers.values().toArray(new float[0][]);
        return state.length - 1;
    }

    /**
     * Called once per applied step, before the segments are updated, with the new step count
     * (1 on the first step): compute bias corrections and other per-step scalars here.
     */
    void beginStep(long t) {}

    /**
     * Updates elements {@code [from, from + n)} of the parameters {@code p}, from the gradients
     * {@code g}, with every state buffer {@code state[slot]} at the same indices.
     *
     * @param lr the segment's learning rate (base × scale)
     * @param decay whether the segment takes weight decay
     */
    abstract void update(float[] p, float[] g, float[][] state, int from, int n, double lr, boolean decay);

    /** Scalar state other than counters and lr (NAdam's mu_product); empty by default. */
    Map<String, Double> scalarState() {
        return Map.of();
    }

    /** Restores {@link #scalarState()}; the names have been checked. */
    void loadScalarState(Map<String, Double> scalars) {}

    // ---- stepping -------------------------------------------------------------------------

    @Override
    public final boolean step(float[] params, float[] grads) {
        requireLength("parameter", params.length);
        requireLength("gradient", grads.length);
        for (ParameterGroups.Segment s : groups.segments()) {
            if (!s.frozen()) {
                int bad = firstNonFinite(grads, s.offset(), s.length());
                if (bad >= 0 && rejectStep(s.offset() + bad, s, grads[s.offset() + bad])) {
                    return false;
                }
            }
        }
        beginStep(++step);
        for (int i = 0; i < stateOffsets.length; i++) {
            ParameterGroups.Segment s = groups.segments().get(i);
            if (s.frozen()) {
                continue;
            }
            if (stateOffsets[i] == s.offset()) {
                update(params, grads, state, s.offset(), s.length(), rate(s), s.weightDecay());
            } else {
                staged(new HostFlat(params), new HostFlat(grads), s, stateOffsets[i]);
            }
        }
        return true;
    }

    /**
     * The same step split over {@code runner}'s threads: the finiteness check and the update each
     * run as one pass over contiguous parts of the vector. Every update is element-wise, so the
     * result is bit for bit that of {@link #step(float[], float[])}; so is a rejected step, which
     * is handed to it (it finds the exact element). A layout whose state is shifted from the
     * parameters (a frozen segment before a trainable one) goes the serial way too.
     */
    @Override
    public final boolean step(float[] params, float[] grads, RangeRunner runner) {
        if (runner.threads() == 1 || !stateAligned || params.length < RangeRunner.MIN_PARALLEL) {
            return step(params, grads);
        }
        requireLength("parameter", params.length);
        requireLength("gradient", grads.length);
        boolean[] nonFinite = new boolean[runner.threads()];
        runner.run(grads.length, (part, from, to) -> nonFinite[part] = firstNonFinite(grads, from, to - from) >= 0);
        for (boolean bad : nonFinite) {
            if (bad) {
                // possibly in a frozen segment, where it does not count: the serial step decides
                return step(params, grads);
            }
        }
        beginStep(++step);
        List<ParameterGroups.Segment> segments = groups.segments();
        runner.run(params.length, (part, from, to) -> {
            for (ParameterGroups.Segment s : segments) {
                int a = Math.max(from, s.offset());
                int b = Math.min(to, s.offset() + s.length());
                if (a < b && !s.frozen()) {
                    update(params, grads, state, a, b - a, rate(s), s.weightDecay());
                }
            }
        });
        return true;
    }

    /**
     * The tensor path. The finiteness check runs on the backend over the whole gradient (one
     * read, no copy), and only when it finds something scans segment by segment for the exact
     * element and whether it lies in a trainable segment. The update copies each chunk of the
     * parameters and gradients into host mirrors at the index its state has, so that
     * {@link #update} sees one index for every array (see the class comment) and no state is
     * copied; only the parameters are copied back.
     */
    @Override
    public final boolean step(Tensor params, Tensor grads) {
        requireLength("parameter", params.size());
        requireLength("gradient", grads.size());
        // a first pass finds a bad gradient before any weight changes
        if (grads.backend().firstNonFinite(grads) >= 0 && !checkChunked(grads)) {
            return false;
        }
        beginStep(++step);
        if (mirrorParams == null) {
            mirrorParams = new float[groups.trainableSize()];
            mirrorGrads = new float[groups.trainableSize()];
        }
        for (int i = 0; i < stateOffsets.length; i++) {
            ParameterGroups.Segment s = groups.segments().get(i);
            if (s.frozen()) {
                continue;
            }
            for (int c = 0; c < s.length(); c += CHUNK) {
                int k = Math.min(CHUNK, s.length() - c);
                long at = s.offset() + c;
                int to = stateOffsets[i] + c;
                params.storage().copyToHost(params.offset() + at, mirrorParams, to, k);
                grads.storage().copyToHost(grads.offset() + at, mirrorGrads, to, k);
                update(mirrorParams, mirrorGrads, state, to, k, rate(s), s.weightDecay());
                params.storage().copyFromHost(params.offset() + at, mirrorParams, to, k);
            }
        }
        return true;
    }

    /** The exact gradient check, chunk by chunk: false if the step is to be skipped. */
    private boolean checkChunked(Tensor grads) {
        for (ParameterGroups.Segment s : groups.segments()) {
            if (s.frozen() || s.length() == 0) {
                continue;
            }
            long bad = grads.backend().firstNonFinite(grads.view(s.offset(), s.length()));
            if (bad >= 0 && rejectStep(s.offset() + bad, s, grads.get(s.offset() + bad))) {
                return false;
            }
        }
        return true;
    }

    /** Updates one segment chunk by chunk through host buffers indexed from 0. */
    private void staged(Flat params, Flat grads, ParameterGroups.Segment s, int stateOffset) {
        float[] cg = chunk();
        float[] cp = chunkParams;
        for (int c = 0; c < s.length(); c += CHUNK) {
            int k = Math.min(CHUNK, s.length() - c);
            int at = s.offset() + c;
            params.get(at, cp, k);
            grads.get(at, cg, k);
            for (int b = 0; b < state.length; b++) {
                System.arraycopy(state[b], stateOffset + c, chunkState[b], 0, k);
            }
            update(cp, cg, chunkState, 0, k, rate(s), s.weightDecay());
            params.put(at, cp, k);
            for (int b = 0; b < state.length; b++) {
                System.arraycopy(chunkState[b], 0, state[b], stateOffset + c, k);
            }
        }
    }

    /** The gradient chunk buffer, allocating all chunk buffers on first use. */
    private float[] chunk() {
        if (chunkGrads == null) {
            chunkParams = new float[CHUNK];
            chunkGrads = new float[CHUNK];
            chunkState = new float[state.length][CHUNK];
        }
        return chunkGrads;
    }

    /** A flat vector the staged path reads and writes in chunks. */
    private interface Flat {
        void get(int at, float[] dst, int k);

        void put(int at, float[] src, int k);
    }

    private record HostFlat(float[] a) implements Flat {
        @Override
        public void get(int at, float[] dst, int k) {
            System.arraycopy(a, at, dst, 0, k);
        }

        @Override
        public void put(int at, float[] src, int k) {
            System.arraycopy(src, 0, a, at, k);
        }
    }

    /**
     * Index (from {@code from}) of the first NaN or ±∞ in {@code g[from, from + n)}, or -1.
     *
     * <p>Why sixteen at a time: C2 does not vectorise a loop that can exit early, and testing one
     * element per iteration runs at ~1 element per cycle (~0.28 ns), twice the time memory needs
     * to deliver it. x·0 is ±0 for every finite x and NaN for NaN and ±∞, and a sum of ±0 is ±0,
     * so one NaN test covers sixteen independent products and adds; that runs at memory speed.
     * The element loop after it finds the exact index in the block that failed, and the tail.
     */
    static int firstNonFinite(float[] g, int from, int n) {
        int end = from + n;
        int i = from;
        for (; i + 15 < end; i += 16) {
            float s = ((g[i] * 0f + g[i + 1] * 0f) + (g[i + 2] * 0f + g[i + 3] * 0f))
                    + ((g[i + 4] * 0f + g[i + 5] * 0f) + (g[i + 6] * 0f + g[i + 7] * 0f))
                    + ((g[i + 8] * 0f + g[i + 9] * 0f) + (g[i + 10] * 0f + g[i + 11] * 0f))
                    + ((g[i + 12] * 0f + g[i + 13] * 0f) + (g[i + 14] * 0f + g[i + 15] * 0f));
            if (Float.isNaN(s)) {
                break;
            }
        }
        for (; i < end; i++) {
            if (!Float.isFinite(g[i])) {
                return i - from;
            }
        }
        return -1;
    }

    /** Skips (true) or throws for a bad gradient element. */
    private boolean rejectStep(long index, ParameterGroups.Segment segment, float value) {
        if (!skipNonFinite) {
            throw new NonFiniteGradientException(index, segment, value);
        }
        skipped++;
        return true;
    }

    private void requireLength(String what, long length) {
        if (length != groups.size()) {
            throw new IllegalArgumentException(what + " vector has " + length + " elements but the optimizer's "
                    + "layout has " + groups.size());
        }
    }

    // ---- settings and counters ------------------------------------------------------------

    @Override
    public final double learningRate() {
        return lr;
    }

    @Override
    public final void setLearningRate(double lr) {
        setLearningRate(lr, 0);
    }

    @Override
    public final void setLearningRate(double lr, double unscaledPart) {
        // a schedule may bring it to 0 (cosine annealing to η_min = 0 at T_max), as PyTorch's do
        double checked = Hyper.nonNegative("learning rate", lr);
        if (checked == 0) {
            requireZeroLearningRateAllowed();
        }
        if (!(unscaledPart >= 0) || !(unscaledPart <= checked)) {
            throw new IllegalArgumentException("the unscaled part of the learning rate must be in [0, lr], got "
                    + unscaledPart);
        }
        this.lr = checked;
        this.lrUnscaled = unscaledPart;
    }

    /** Refuses a learning rate of 0 when this optimizer's update divides by it; all others take it. */
    void requireZeroLearningRateAllowed() {
    }

    /** A segment's rate: its scale times the base rate, but for the part no scale multiplies. */
    private double rate(ParameterGroups.Segment s) {
        // a scale of 1 gives lr exactly (0 × a finite number is 0)
        return lr * s.lrScale() + (1 - s.lrScale()) * lrUnscaled;
    }

    @Override
    public final long stepCount() {
        return step;
    }

    @Override
    public final long skippedSteps() {
        return skipped;
    }

    @Override
    public final void setSkipNonFiniteSteps(boolean skip) {
        skipNonFinite = skip;
    }

    @Override
    public final ParameterGroups groups() {
        return groups;
    }

    // ---- state ----------------------------------------------------------------------------

    private String kind() {
        return getClass().getSimpleName();
    }

    @Override
    public final OptimizerState state() {
        Map<String, Double> scalars = new LinkedHashMap<>();
        scalars.put("lr", lr);
        scalars.putAll(scalarState());
        return new OptimizerState(kind(), buffers, Map.of("step", step, "skipped_steps", skipped), scalars);
    }

    @Override
    public final void loadState(OptimizerState state) {
        if (!kind().equals(state.optimizer())) {
            throw new IllegalArgumentException("state of a " + state.optimizer() + " cannot be loaded into a "
                    + kind());
        }
        if (!state.tensors().keySet().equals(buffers.keySet())) {
            throw new IllegalArgumentException(kind() + " state holds tensors " + state.tensors().keySet()
                    + " but this " + this + " needs " + buffers.keySet());
        }
        for (Map.Entry<String, float[]> e : state.tensors().entrySet()) {
            if (e.getValue().length != groups.trainableSize()) {
                throw new IllegalArgumentException("state tensor '" + e.getKey() + "' has " + e.getValue().length
                        + " elements but this layout has " + groups.trainableSize() + " trainable ones");
            }
        }
        Map<String, Double> scalars = new LinkedHashMap<>(state.scalars());
        Double newLr = scalars.remove("lr");
        if (newLr == null || !scalars.keySet().equals(scalarState().keySet())) {
            throw new IllegalArgumentException(kind() + " state holds scalars " + state.scalars().keySet()
                    + " but needs lr and " + scalarState().keySet());
        }
        Long newStep = state.counters().get("step");
        Long newSkipped = state.counters().get("skipped_steps");
        if (newStep == null || newSkipped == null || newStep < 0 || newSkipped < 0) {
            throw new IllegalArgumentException(kind() + " state needs counters step and skipped_steps >= 0, got "
                    + state.counters());
        }
        // copy into the existing arrays: the subclass holds references to them
        for (Map.Entry<String, float[]> e : state.tensors().entrySet()) {
            System.arraycopy(e.getValue(), 0, buffers.get(e.getKey()), 0, e.getValue().length);
        }
        setLearningRate(newLr);
        step = newStep;
        skipped = newSkipped;
        loadScalarState(Collections.unmodifiableMap(scalars));
    }
}
