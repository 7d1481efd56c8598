package io.parallax.engine.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/** Clipping against torch.nn.utils.clip_grad_norm_ / clip_grad_value_ ({@code clip/make_clipping.py}). */
class GradientClippingTest {

    private final Backend cpu = Backends.cpu();

    @Test
    void matchesPyTorch() throws IOException {
        JsonNode cases;
        try (InputStream in = getClass().getResourceAsStream("/clip/clipping.json")) {
            cases = new ObjectMapper().readTree(in);
        }
        for (JsonNode c : cases) {
            Tensor g = Tensor.of(cpu, floats(c.get("grad")), c.get("grad").size());
            GradientClipping clip = c.get("kind").asText().equals("norm")
                    ? GradientClipping.byGlobalNorm(c.get("arg").asDouble())
                    : GradientClipping.byValue(c.get("arg").asDouble());
            float[] heap = floats(c.get("grad"));
            double heapNorm = clip.apply(heap);
            double norm = clip.apply(g);
            assertEquals(Double.isNaN(norm), Double.isNaN(heapNorm));
            if (!Double.isNaN(norm)) {
                assertEquals(norm, heapNorm, 1e-12 * norm, "heap and tensor paths agree on the norm");
            }
            float[] fromTensor = g.toArray();
            for (int i = 0; i < heap.length; i++) {
                assertEquals(fromTensor[i], heap[i], 1e-7f * Math.abs(fromTensor[i]), "heap path element " + i);
            }
            if (!c.get("norm").isNull()) {
                assertEquals(c.get("norm").asDouble(), norm, 1e-5 * norm, "norm");
            }
            float[] want = floats(c.get("clipped"));
            float[] got = g.toArray();
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-6 * Math.abs(want[i]) + 1e-7, c.get("kind") + " element " + i);
            }
        }
    }

    @Test
    void nonFiniteGradientIsAnErrorNotASilentScale() {
        Tensor g = Tensor.of(cpu, new float[] {1, Float.NaN, 2}, 3);
        ArithmeticException e = assertThrows(ArithmeticException.class, () -> GradientClipping.byGlobalNorm(1).apply(g));
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
    }

    @Test
    void invalidSettingsNameTheValue() {
        assertEquals("clipping max_norm must be > 0, got 0.0",
                assertThrows(IllegalArgumentException.class, () -> GradientClipping.byGlobalNorm(0)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GradientClipping.byValue(-1))
                .getMessage().contains("-1"));
    }

    private static float[] floats(JsonNode a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) a.get(i).asDouble();
        }
        return f;
    }
}
