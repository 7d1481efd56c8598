package io.parallax.engine.train;

/**
 * What one training epoch did.
 *
 * @param epoch             0-based epoch index
 * @param trainLoss         mean training loss over the epoch's samples (as measured during the
 *                          epoch, i.e. with the weights of each step); for an epoch resumed in
 *                          its middle, over the samples trained since the resume
 * @param samples           training samples seen (since the resume, for a resumed epoch)
 * @param trainSeconds      wall time of the training loop alone (no evaluation)
 * @param learningRate      base learning rate of the epoch's last step
 * @param validation        validation loss and accuracy after the epoch, or null without a
 *                          validation set
 */
public record EpochResult(int epoch, double trainLoss, long samples, double trainSeconds, double learningRate,
                          Evaluation validation) {

    /** Training samples per second of the training loop. */
    public double samplesPerSecond() {
        return trainSeconds > 0 ? samples / trainSeconds : 0;
    }
}
