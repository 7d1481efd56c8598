package io.parallax.engine.layer;

/**
 * What a forward pass needs besides its input: the mode, and for dropout the key of its masks.
 *
 * @param training  training mode (dropout active, batch norm on batch statistics)
 * @param seed      the run's seed
 * @param maskRound which mask round (a step, or an epoch in data-parallel training) the pass is in
 * @param rowIds    a stable id per input row (the sample's index in its dataset), so a sample's
 *                  dropout mask does not depend on its position in the batch; null means 0..n−1
 *                  offset by {@code maskRound}'s batch
 */
public record ForwardContext(boolean training, long seed, long maskRound, long[] rowIds) {

    /** Evaluation mode: deterministic, no masks. */
    public static ForwardContext eval() {
        return new ForwardContext(false, 0, 0, null);
    }

    /** The id of row {@code r}. */
    public long rowId(int r) {
        return rowIds == null ? r : rowIds[r];
    }
}
