package io.parallax.engine.optim;

import io.parallax.engine.concurrent.RangeRunner;
import io.parallax.engine.tensor.Tensor;

/**
 * A first-order optimizer over one flat float32 parameter vector, with PyTorch's
 * ({@code torch.optim}, 1.13) semantics and defaults.
 *
 * <p>An optimizer is built for one {@link ParameterGroups} layout: the flat vector's segments
 * (one per layer tensor, say), each with a learning-rate scale, weight decay on or off, and a
 * frozen flag. It allocates its own state (moments, accumulators) for the trainable segments
 * only, as {@code float[]} of the trainable length, and updates the parameters in place from a
 * gradient vector of the same layout. Both may be plain arrays (the coordinator's master weights
 * and aggregated gradient) or a model's flat tensors ({@code model.parameters()},
 * {@code model.gradients()}).
 *
 * <p>A step whose gradient holds NaN or ±∞ in a trainable segment throws
 * {@link NonFiniteGradientException} before anything changes; with
 * {@link #setSkipNonFiniteSteps(boolean)} such a step is skipped and counted instead.
 *
 * <p>Not thread-safe: one thread steps an optimizer.
 */
public interface Optimizer {

    /**
     * One update: {@code params} (length {@link ParameterGroups#size()}) changes in place from
     * {@code grads} (same layout; left unchanged).
     *
     * @return true if the step was applied, false if it was skipped for a non-finite gradient
     * @throws NonFiniteGradientException if a trainable gradient element is NaN or infinite and
     *     skipping is off; nothing has been changed then
     */
    boolean step(float[] params, float[] grads);

    /**
     * {@link #step(float[], float[])} split over {@code runner}'s threads, with the same result
     * bit for bit (every update is element-wise). The coordinator's master weights take this
     * path: its workers wait for the step.
     */
    boolean step(float[] params, float[] grads, RangeRunner runner);

    /**
     * The same update on a model's flat tensors on any backend. Runs through small host buffers
     * chunk by chunk, so the loops stay the vectorised {@code float[]} ones and the extra copies
     * stay in cache.
     */
    boolean step(Tensor params, Tensor grads);

    /** The base learning rate ({@code lr}) of the next step, before each group's scale. */
    double learningRate();

    /**
     * Sets the base learning rate for the following steps (a schedule calls this before each
     * step); each group still applies its own scale. Must be finite and > 0.
     */
    void setLearningRate(double lr);

    /**
     * As {@link #setLearningRate(double)}, for a schedule with a part its groups' scales do not
     * multiply ({@link io.parallax.engine.schedule.LearningRateSchedule#unscaledPart}): a group
     * with scale s then steps at {@code s·lr + (1 − s)·unscaledPart}.
     */
    void setLearningRate(double lr, double unscaledPart);

    /** Steps applied so far (PyTorch's {@code state['step']}); skipped steps do not count. */
    long stepCount();

    /** Steps skipped for a non-finite gradient. */
    long skippedSteps();

    /** Whether a non-finite gradient skips the step (counted) instead of throwing. Default off. */
    void setSkipNonFiniteSteps(boolean skip);

    /** The layout this optimizer was built for. */
    ParameterGroups groups();

    /**
     * A deep copy of everything the next steps depend on: state buffers, step counters, the
     * current learning rate and any scalar state. Loading it into an optimizer of the same kind,
     * hyperparameters and layout continues bit for bit.
     */
    OptimizerState state();

    /**
     * Restores a {@link #state()} export. The optimizer kind, buffer names and lengths must match
     * this optimizer (hyperparameters are not part of the state: build the same ones).
     *
     * @throws IllegalArgumentException naming the first mismatch
     */
    void loadState(OptimizerState state);
}
