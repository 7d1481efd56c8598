package io.parallax.engine.layer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Linear's forward fills its output with the bias rows by doubling block copies and lets the GEMM
 * accumulate onto them; this checks every row against x·Wᵀ + b in double precision for batch
 * sizes that are and are not powers of two, and for a batch that shrinks and grows again in the
 * same output buffer (no row may keep a stale value).
 */
class LinearForwardTest {

    private final Backend cpu = Backends.cpu();

    @Test
    void everyRowIsTheProductPlusTheBias() {
        int in = 37;
        int out = 19;
        Sequential model = new Sequential(in, List.of(new Linear(in, out)), cpu, 3);
        float[] params = model.parameters().toArray();
        for (int batch : new int[] {1, 2, 3, 5, 8, 13, 130, 4, 130, 1}) {
            float[] x = random(batch * in, batch);
            Tensor y = model.forward(Tensor.of(cpu, x, batch, in));
            float[] got = y.toArray();
            for (int r = 0; r < batch; r++) {
                for (int o = 0; o < out; o++) {
                    double expected = params[out * in + o];
                    for (int k = 0; k < in; k++) {
                        expected += (double) x[r * in + k] * params[o * in + k];
                    }
                    assertEquals(expected, got[r * out + o], 1e-5 * (1 + Math.abs(expected)),
                            "batch " + batch + ", row " + r + ", output " + o);
                }
            }
        }
    }

    private static float[] random(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (2 * random.nextDouble() - 1);
        }
        return v;
    }
}
