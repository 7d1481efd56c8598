package io.parallax.engine.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The checksum two nodes compare: equal for the same rows, different for any changed value. */
class DatasetDigestTest {

    private static Dataset data(long seed, int rows) {
        Random r = new Random(seed);
        float[] features = new float[rows * 5];
        int[] labels = new int[rows];
        for (int i = 0; i < features.length; i++) {
            features[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < rows; i++) {
            labels[i] = r.nextInt(3);
        }
        return new Dataset(features, labels, 5, 3);
    }

    @Test
    void theSameRowsGiveTheSameDigestAndAnyChangeAnother() {
        // more than one 1 MiB chunk of features, so the chunking is in play
        int rows = 60_000;
        long digest = data(1, rows).digest();
        assertEquals(digest, data(1, rows).digest(), "same data, loaded again");

        Dataset label = data(1, rows);
        label.labels()[rows - 1] = (label.labels()[rows - 1] + 1) % 3;
        assertNotEquals(digest, new Dataset(label.features(), label.labels(), 5, 3).digest());

        Dataset feature = data(1, rows);
        feature.features()[rows * 5 - 1] = Math.nextUp(feature.features()[rows * 5 - 1]);
        assertNotEquals(digest, new Dataset(feature.features(), feature.labels(), 5, 3).digest());

        assertNotEquals(digest, data(1, rows - 1).digest(), "a row fewer");
    }
}
