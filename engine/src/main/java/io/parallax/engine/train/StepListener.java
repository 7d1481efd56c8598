package io.parallax.engine.train;

/**
 * Called by a {@link Trainer} after every optimizer step, with the position of the next step:
 * the place to save a checkpoint every k steps, or to stop a run early (on a deadline, a
 * preemption notice, a step budget).
 *
 * <pre>{@code
 * trainer.setStepListener(position -> {
 *     if (position.globalStep() % 500 == 0) {
 *         Checkpoint.save(path, model, optimizer, position);   // wrap the IOException
 *     }
 *     return !preempted;
 * });
 * }</pre>
 */
@FunctionalInterface
public interface StepListener {

    /**
     * @param position where the trainer stands after the step (the next step's epoch, batch and
     *     global step); a step that ended an epoch reports the next epoch's start
     * @return true to go on, false to stop training after this step
     */
    boolean afterStep(TrainingPosition position);
}
