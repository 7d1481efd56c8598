package io.parallax.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.engine.layer.BatchNorm1d;
import io.parallax.engine.layer.Dropout;
import io.parallax.engine.layer.Linear;
import io.parallax.engine.layer.ReLU;
import org.junit.jupiter.api.Test;

class ParameterCountTest {

    @Test
    void twoSmallLinearLayersHave46Parameters() {
        Sequential m = Sequential.of(8, new Linear(8, 4), new ReLU(), new Linear(4, 2));
        assertEquals(46, m.parameterCount());
        assertEquals(36, m.layer(0).parameterCount());
        assertEquals(0, m.layer(1).parameterCount());
        assertEquals(10, m.layer(2).parameterCount());
        assertEquals(46, m.trainableParameterCount());
    }

    @Test
    void fashionMnistMlpHas235146Parameters() {
        Sequential m = Sequential.of(784, new Linear(784, 256), new ReLU(), new Linear(256, 128), new ReLU(),
                new Linear(128, 10));
        assertEquals(235_146, m.parameterCount());
        assertEquals(235_146, m.parameters().size());
        assertEquals(235_146, m.gradients().size());
    }

    @Test
    void frozenLayersCountSeparately() {
        Sequential m = Sequential.of(784, new Linear(784, 256), new ReLU(), new Linear(256, 128), new ReLU(),
                new Linear(128, 10));
        m.freezeFirst(3);
        assertEquals(235_146, m.parameterCount());
        assertEquals(128 * 10 + 10, m.trainableParameterCount());
        assertEquals(784 * 256 + 256 + 256 * 128 + 128, m.frozenParameterCount());
        assertTrue(m.summary().contains("frozen"), m.summary());
    }

    @Test
    void batchNormCountsAffineParametersButNotRunningStatistics() {
        Sequential m = Sequential.of(10, new Linear(10, 6, false), new BatchNorm1d(6), new Dropout(0.2f),
                new Linear(6, 1));
        assertEquals(60 + 12 + 7, m.parameterCount());
        assertEquals(12, m.buffers().size());
        assertEquals(java.util.List.of("0.weight", "1.weight", "1.bias", "3.weight", "3.bias"),
                m.namedParameters().stream().map(NamedTensor::name).toList());
        assertEquals(java.util.List.of("1.running_mean", "1.running_var"),
                m.namedBuffers().stream().map(NamedTensor::name).toList());
    }
}
