package io.parallax.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.parallax.engine.data.Dataset;
import io.parallax.engine.io.ModelFile;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.tensor.Tensor;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TrainerCliTest {

    @TempDir
    Path dir;

    private static final Path DIGITS = Path.of("..", "examples", "data", "digits.csv.gz");

    private record Run(int code, String err) {}

    private static Run run(String... args) {
        CommandLine cl = TrainerCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, err.toString());
    }

    @Test
    void trainExportsAModelWhoseAccuracyMatchesTheReportedOne() throws Exception {
        Run r = run("train", "--csv", DIGITS.toString(), "--label", "digit", "--hidden", "128,64", "--epochs", "8",
                "--batch", "32", "--normalize", "standardize", "--dropout", "0.2",
                "--export", dir.resolve("model.safetensors").toString(),
                "--metrics-out", dir.resolve("metrics.jsonl").toString());
        assertEquals(0, r.code(), r.err());

        List<String> lines = Files.readAllLines(dir.resolve("metrics.jsonl"));
        assertEquals(8, lines.size());
        JsonNode last = new ObjectMapper().readTree(lines.get(7));
        for (String key : List.of("epoch", "train_loss", "val_loss", "val_accuracy", "samples_per_second",
                "elapsed_seconds")) {
            assertTrue(last.has(key), key + " missing in " + last);
        }
        double reported = last.get("val_accuracy").asDouble();
        assertTrue(reported > 0.9, "digits should be > 90% after 8 epochs, got " + reported);

        // the exported model, evaluated independently of the trainer, gives the reported accuracy
        Sequential model = ModelFile.load(dir.resolve("model.safetensors")).eval();
        TrainCommand train = new TrainCommand();
        train.csv = DIGITS;
        train.label = "digit";
        train.normalize = "standardize";
        Dataset validation = train.loadData().validation();
        Tensor x = Tensor.of(model.backend(), validation.features(), validation.rows(), validation.width());
        int[] predicted = new int[validation.rows()];
        model.backend().argmaxRows(model.forward(x), predicted);
        long correct = 0;
        for (int i = 0; i < predicted.length; i++) {
            correct += predicted[i] == validation.labels()[i] ? 1 : 0;
        }
        assertEquals(reported, (double) correct / validation.rows(), 1e-6);
    }

    @Test
    void demoRunsTheDigitsJobInSingleNodeModeAndWritesEveryOutput() throws Exception {
        Run r = run("demo", "--job", Path.of("..", "examples", "digits.json").toString(), "--out", dir.toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(dir.resolve("metrics.jsonl"));
        assertEquals(15, lines.size());
        JsonNode last = new ObjectMapper().readTree(lines.get(14));
        assertEquals(2, last.get("workers").asInt());
        assertTrue(last.get("val_accuracy").asDouble() > 0.95, last.toString());
        assertTrue(Files.size(dir.resolve("curves.png")) > 1000);
        assertTrue(Files.list(dir.resolve("tensorboard")).findAny().isPresent());
        assertEquals(64 * 128 + 128 + 128 * 10 + 10, ModelFile.load(dir.resolve("model.safetensors")).parameterCount());
    }

    @Test
    void aMissingDatasetIsOneLineAndExitCode1() {
        Run r = run("train", "--csv", dir.resolve("nope.csv").toString(), "--label", "y");
        assertEquals(TrainerCli.JOB_FAILED, r.code());
        assertTrue(r.err().startsWith("trainer: ") && r.err().contains("nope.csv"), r.err());
        assertTrue(!r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    @Test
    void badOptionsAreUsageErrorsWithExitCode2() {
        assertEquals(2, run("train", "--epochs", "many").code());
        assertEquals(2, run("frobnicate").code());
        Run r = run("train", "--csv", DIGITS.toString(), "--label", "digit", "--optimizer", "adamm");
        assertEquals(TrainerCli.JOB_FAILED, r.code());
        assertTrue(r.err().contains("unknown optimizer 'adamm'"), r.err());
    }

    @Test
    void aLabelColumnThatIsNotThereIsNamed() {
        Run r = run("train", "--csv", DIGITS.toString(), "--label", "class");
        assertEquals(TrainerCli.JOB_FAILED, r.code());
        assertTrue(r.err().contains("no column 'class'"), r.err());
    }
}
