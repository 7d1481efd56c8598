package io.parallax.engine.io;

import static io.parallax.engine.io.CheckpointResumeTest.OPTIMIZERS;
import static io.parallax.engine.io.CheckpointResumeTest.TRAIN;
import static io.parallax.engine.io.CheckpointResumeTest.plainConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.parallax.engine.io.CheckpointResumeTest.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint stays a PyTorch model file: {@code nn.Sequential.load_state_dict(strict=False)}
 * takes every model tensor, reports exactly the optimizer tensors as unexpected, and the loaded
 * model gives our outputs ({@code safetensors/check_torch_checkpoint.py}; skipped where PyTorch
 * is not installed).
 */
class CheckpointTorchTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void pyTorchLoadsTheModelPartWithStrictFalse() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "/usr/bin/python3 is not installed");
        Run run = Run.fresh(OPTIMIZERS.get(3), plainConfig(), 1); // RMSprop, centered, with momentum
        run.trainer().trainSteps(TRAIN, 17);
        Path file = dir.resolve("run.ckpt.safetensors");
        Checkpoint.save(file, run.model(), run.optimizer(), run.trainer().position());

        SplittableRandom random = new SplittableRandom(8);
        float[][] input = new float[6][];
        for (int r = 0; r < input.length; r++) {
            input[r] = ModelFileTest.randomArray(random, 30);
        }
        Path inputFile = dir.resolve("input.json");
        JSON.writeValue(inputFile.toFile(), Map.of("input", input));
        String stdout = TorchInteropTest.run(TorchInteropTest.resource("check_torch_checkpoint.py").toString(),
                file.toString(), inputFile.toString());
        Assumptions.assumeTrue(stdout != null, "PyTorch cannot be imported by /usr/bin/python3");
        JsonNode torch = JSON.readTree(stdout);

        assertEquals(0, torch.get("missing").size(), torch.toString());
        List<String> unexpected = new ArrayList<>();
        torch.get("unexpected").forEach(n -> unexpected.add(n.asText()));
        assertEquals(List.of("optimizer.grad_avg", "optimizer.momentum_buffer", "optimizer.square_avg"), unexpected);
        assertEquals(17, torch.get("position").get("global_step").asLong());
        assertEquals(1, torch.get("position").get("epoch").asInt());
        float[] ours = run.model().eval().forward(TorchInteropTest.tensor(input)).toArray();
        TorchInteropTest.assertClose(TorchInteropTest.matrix(torch.get("output")), ours, "PyTorch output of the checkpoint");
    }
}
