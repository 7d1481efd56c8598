package io.parallax.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/**
 * The resampler against Pillow 9.4's {@code Image.resize(size, BILINEAR)} on random 8-bit images
 * ({@code src/test/resources/data/make_pil_resize.py}): every value equal, whether shrinking,
 * enlarging or both, grey or RGB.
 */
class PilBilinearTest {

    @Test
    void everyPixelIsPillowsBitForBit() throws IOException {
        JsonNode ref;
        try (InputStream in = PilBilinearTest.class.getResourceAsStream("/data/pil_resize.json")) {
            ref = new ObjectMapper().readTree(in);
        }
        assertEquals(13, ref.get("cases").size());
        for (JsonNode c : ref.get("cases")) {
            float[] input = floats(c.get("input"));
            float[] expected = floats(c.get("output"));
            float[] actual = PilBilinear.resize(input, c.get("channels").asInt(), c.get("height").asInt(),
                    c.get("width").asInt(), c.get("out_height").asInt(), c.get("out_width").asInt());
            assertArrayEquals(expected, actual, c.get("channels") + " channel(s), " + c.get("width") + "×"
                    + c.get("height") + " → " + c.get("out_width") + "×" + c.get("out_height"));
        }
    }

    private static float[] floats(JsonNode array) {
        float[] v = new float[array.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = array.get(i).floatValue();
        }
        return v;
    }
}
