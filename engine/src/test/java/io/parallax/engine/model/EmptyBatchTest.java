package io.parallax.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.layer.Linear;
import io.parallax.engine.layer.ReLU;
import io.parallax.engine.loss.CrossEntropyLoss;
import io.parallax.engine.loss.Loss;
import io.parallax.engine.loss.Targets;
import io.parallax.engine.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A batch of zero rows, as PyTorch allows: shapes keep their width, the summed loss is 0 and the
 * gradient is zero. (It once failed with "/ by zero": a [0, n] tensor's width was size / rows.)
 */
class EmptyBatchTest {

    private final Backend cpu = Backends.cpu();

    @Test
    void anEmptyBatchHasItsWidth() {
        Tensor empty = Tensor.zeros(cpu, 0, 7);
        assertEquals(0, empty.rows());
        assertEquals(7, empty.cols());
        assertEquals(0, empty.size());
    }

    @Test
    void forwardLossAndBackwardOfNoRowsGiveNothingAndAZeroGradient() {
        Sequential model = new Sequential(4, List.of(new Linear(4, 3), new ReLU(), new Linear(3, 2)), cpu, 1);
        // a gradient left over from a real batch must be overwritten, not kept
        Tensor x = Tensor.of(cpu, new float[] {1, 2, 3, 4, -1, 0, 1, 2}, 2, 4);
        Tensor g = Tensor.zeros(cpu, 2, 2);
        Tensor out = model.forward(x);
        new CrossEntropyLoss(Loss.Reduction.SUM).compute(out, Targets.classes(new int[] {0, 1}), g);
        model.backward(g);

        out = model.forward(Tensor.zeros(cpu, 0, 4));
        assertArrayEquals(new int[] {0, 2}, out.shape());
        Tensor none = Tensor.zeros(cpu, 0, 2);
        double loss = new CrossEntropyLoss(Loss.Reduction.SUM).compute(out, Targets.classes(new int[0]), none);
        assertEquals(0.0, loss);
        model.backward(none);
        assertArrayEquals(new float[Math.toIntExact(model.gradients().size())], model.gradients().toArray());
    }
}
