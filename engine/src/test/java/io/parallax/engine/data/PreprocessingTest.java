package io.parallax.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Preprocessing#prepare}: raw rows made the model's input exactly as training made them. */
class PreprocessingTest {

    @Test
    void csvRowsArePreparedBitForBitAsTrainingPreparedThem() {
        // a Unix timestamp beside small values: float32 before the normalisation would lose it
        double[] raw = {1.7e9 + 1, 0.25, 1.7e9 + 7, -3.5, 1.7e9 + 2, 12.0};
        float[] asRead = new float[raw.length];
        for (int i = 0; i < raw.length; i++) {
            asRead[i] = (float) raw[i];
        }
        Dataset train = new Dataset(asRead.clone(), raw.clone(), new int[] {0, 1, 0}, 2, 2);
        Normalization n = Normalization.fit(Normalization.Kind.STANDARDIZE, train);
        n.applyInPlace(train);
        Preprocessing p = new Preprocessing(InputFormat.csv(List.of("time", "x")), n, List.of("a", "b"));
        assertArrayEquals(train.features(), p.prepare(raw));
        assertEquals("7 values are not whole rows of 2 features",
                assertThrows(IllegalArgumentException.class, () -> p.prepare(new double[7])).getMessage());
    }

    @Test
    void pixelsAreDividedAsReadThenNormalised() {
        double[] pixels = {0, 17, 255, 128};
        float[] asRead = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            asRead[i] = (float) pixels[i] / 255f; // as the IDX and image-folder readers divide
        }
        Dataset train = new Dataset(asRead.clone(), new int[] {0, 1}, 2, 2);
        Normalization n = Normalization.fit(Normalization.Kind.MIN_MAX, train);
        n.applyInPlace(train);
        Preprocessing p = new Preprocessing(InputFormat.idx(List.of(2)), n, List.of());
        assertArrayEquals(train.features(), p.prepare(pixels));
        assertArrayEquals(asRead, new Preprocessing(InputFormat.idx(List.of(2)), null, List.of()).prepare(pixels));
    }
}
