package io.parallax.engine.train;

/**
 * A model's loss and accuracy on a dataset, in evaluation mode.
 *
 * @param loss     mean loss per sample
 * @param correct  correctly classified samples
 * @param samples  samples evaluated
 */
public record Evaluation(double loss, long correct, long samples) {

    public double accuracy() {
        return samples == 0 ? 0 : (double) correct / samples;
    }
}
