package io.parallax.engine.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every schedule against {@code torch.optim.lr_scheduler} (or LambdaLR with the formula) at every
 * step of a 100-step run; traces made by {@code schedule/make_schedules.py}.
 */
class LearningRateScheduleTest {

    /** PyTorch's recursive forms (LinearLR, CosineAnnealingLR) drift from the closed form by ~1e-15. */
    private static final double RELATIVE_TOLERANCE = 1e-9;

    @TestFactory
    List<DynamicTest> matchesPyTorchAtEveryStep() throws IOException {
        JsonNode root;
        try (InputStream in = getClass().getResourceAsStream("/schedule/schedules.json")) {
            root = new ObjectMapper().readTree(in);
        }
        List<DynamicTest> tests = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            tests.add(DynamicTest.dynamicTest(e.getKey(), () -> {
                LearningRateSchedule s = build(e.getValue().get("spec"));
                JsonNode expected = e.getValue().get("lr");
                assertEquals(100, expected.size());
                for (int t = 0; t < expected.size(); t++) {
                    double want = expected.get(t).asDouble();
                    double got = s.learningRate(t);
                    assertTrue(Math.abs(got - want) <= RELATIVE_TOLERANCE * Math.abs(want),
                            e.getKey() + " at t=" + t + ": expected " + want + ", got " + got);
                }
            }));
        }
        return tests;
    }

    private static LearningRateSchedule build(JsonNode spec) {
        double lr = spec.get("lr").asDouble();
        return switch (spec.get("type").asText()) {
            case "constant" -> new ConstantSchedule(lr);
            case "exponential" -> new ExponentialDecay(lr, spec.get("gamma").asDouble());
            case "step" -> new StepDecay(lr, spec.get("step_size").asLong(), spec.get("gamma").asDouble());
            case "cosine" -> new CosineAnnealing(lr, spec.get("t_max").asLong(), spec.get("eta_min").asDouble());
            case "inverse_time" -> new InverseTimeDecay(lr, spec.get("decay").asDouble());
            case "inverse_sqrt" -> new InverseSquareRootDecay(lr, spec.get("k").asDouble());
            case "warmup" -> {
                LearningRateSchedule inner = spec.get("inner").asText().equals("exponential")
                        ? new ExponentialDecay(lr, spec.get("gamma").asDouble()) : new ConstantSchedule(lr);
                yield inner.withWarmup(spec.get("warmup").asLong(), spec.get("start_factor").asDouble());
            }
            default -> throw new IllegalArgumentException("unknown schedule in reference file: " + spec);
        };
    }

    @Test
    void formulasHoldWhereWrittenByHand() {
        assertEquals(0.1 / (1 + 0.5 * 4), new InverseTimeDecay(0.1, 0.5).learningRate(4), 1e-15);
        assertEquals(0.2 * 2 / Math.sqrt(16), new InverseSquareRootDecay(0.2, 2).learningRate(16), 1e-15);
        assertEquals(0.2, new InverseSquareRootDecay(0.2, 2).learningRate(0), 0);
        assertEquals(0.01, new CosineAnnealing(1, 10, 0.01).learningRate(10), 1e-15);
        assertEquals(0.5 * 0.25, new StepDecay(0.5, 3, 0.5).learningRate(6), 0);
    }

    @Test
    void invalidSettingsAreRejectedWithTheirValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ConstantSchedule(-0.1));
        assertEquals("learning rate must be >= 0, got -0.1", e.getMessage());
        // PyTorch's optimizers take lr=0, so a schedule starts from it too
        assertEquals(0, new ExponentialDecay(0, 0.5).learningRate(3), 0);
        assertEquals(0, new CosineAnnealing(0, 10, 0).learningRate(4), 0);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new ExponentialDecay(0.1, 1.5))
                .getMessage().contains("1.5"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new StepDecay(0.1, 0, 0.5))
                .getMessage().contains("step_size"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new CosineAnnealing(0.1, 0, 0))
                .getMessage().contains("T_max"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new ConstantSchedule(0.1).withWarmup(5, 0))
                .getMessage().contains("start_factor"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new ConstantSchedule(0.1).learningRate(-1))
                .getMessage().contains("-1"));
    }
}
