package io.parallax.engine.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.parallax.engine.backend.Backends;
import io.parallax.engine.loss.BinaryCrossEntropyLoss;
import io.parallax.engine.loss.BinaryCrossEntropyWithLogitsLoss;
import io.parallax.engine.loss.Loss;
import io.parallax.engine.loss.MeanSquaredErrorLoss;
import io.parallax.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

class BatchTargetsTest {

    private static long correct(Loss loss, float[] outputs, int[] labels) {
        Tensor out = Tensor.of(Backends.cpu(), outputs, outputs.length, 1);
        BatchTargets targets = new BatchTargets(loss);
        return targets.correct(out, targets.of(out, labels, 2), labels);
    }

    /**
     * One output: logits are cut at 0, while what is trained towards the 0/1 targets themselves —
     * probabilities (BCE) and MSE's regression — is cut at 0.5. MSE was cut at 0, which scored a
     * model that predicts 0.3 for class 0 as wrong.
     */
    @Test
    void aSingleOutputIsCutAtZeroOnlyForLogits() {
        float[] outputs = {0.3f, 0.7f, -0.2f, 0.6f};
        int[] labels = {0, 1, 0, 0};
        assertEquals(3, correct(new MeanSquaredErrorLoss(), outputs, labels));
        assertEquals(3, correct(new BinaryCrossEntropyLoss(), outputs, labels));
        assertEquals(2, correct(new BinaryCrossEntropyWithLogitsLoss(), outputs, labels));
    }
}
