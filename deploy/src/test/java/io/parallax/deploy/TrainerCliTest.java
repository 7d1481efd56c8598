package io.parallax.deploy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.parallax.deploy.client.ExitCodes;
import io.parallax.engine.data.Dataset;
import io.parallax.engine.data.Preprocessing;
import io.parallax.engine.io.ModelFile;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.tensor.Tensor;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

class TrainerCliTest {

    @TempDir
    Path dir;

    private static final Path DIGITS = Path.of("..", "examples", "data", "digits.csv.gz");

    private record Run(int code, String err, String out) {}

    /** The command in this JVM; its standard output (the commands print to System.out) and picocli's err. */
    private static Run run(String... args) {
        CommandLine cl = TrainerCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        java.io.PrintStream stdout = System.out;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
        int code;
        try {
            code = cl.execute(args);
        } finally {
            System.setOut(stdout);
        }
        String printed = out.toString(java.nio.charset.StandardCharsets.UTF_8);
        stdout.print(printed);
        return new Run(code, err.toString(), printed);
    }

    @Test
    void anExportThatCannotBeWrittenIsTriedAgainAndThenNamedInOneLine() {
        Path full = Path.of("/dev/full"); // every write: "No space left on device"
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(full), "needs Linux's /dev/full");
        long retry = LocalCommand.exportRetryMillis;
        long patience = LocalCommand.exportPatienceMillis;
        LocalCommand.exportRetryMillis = 100;
        LocalCommand.exportPatienceMillis = 500;
        try {
            Run r = run("local", "--job", Path.of("..", "examples", "digits.json").toString(), "--export",
                    full.toString());
            assertEquals(1, r.code(), r.toString());
            assertTrue(r.out().contains("note: --export: the model could not be written (/dev/full: No space left on "
                    + "device); trying again every 1 s for up to 1 minute (free some space, or stop with Ctrl-C)"),
                    r.out());
            assertEquals("trainer: --export: the model could not be written (/dev/full: No space left on device)",
                    r.err().strip());
        } finally {
            LocalCommand.exportRetryMillis = retry;
            LocalCommand.exportPatienceMillis = patience;
        }
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
        // written in full, not to six digits: the very double
        assertEquals((double) correct / validation.rows(), reported);

        // and on raw data, normalised with the statistics the file carries, it gives the same answers
        Preprocessing saved = ModelFile.readPreprocessing(dir.resolve("model.safetensors")).orElseThrow();
        assertEquals(List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), saved.classNames());
        // the feature columns, in the order the model takes them (the label column left out)
        assertEquals(64, saved.input().columns().size());
        assertEquals(1, saved.input().divideBy());
        assertTrue(!saved.input().columns().contains("digit"), saved.input().toString());
        train.normalize = "none";
        Dataset raw = train.loadData().validation();
        saved.normalization().applyInPlace(raw);
        assertArrayEquals(validation.features(), raw.features());
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
        // the job standardises its inputs: the statistics and the class names come with the model
        Preprocessing saved = ModelFile.readPreprocessing(dir.resolve("model.safetensors")).orElseThrow();
        assertEquals(10, saved.classNames().size());
        assertEquals(64, saved.normalization().width());
        assertEquals("STANDARDIZE", saved.normalization().kind().name());
        assertEquals("CSV", saved.input().kind().name());
    }

    @Test
    void aSecondRunIntoAFolderInUseIsRefusedBeforeItWritesAnything() throws Exception {
        Path busy = dir.resolve("busy");
        OutputFolderLock held = OutputFolderLock.acquire(busy, "--out");
        try {
            Run r = run("demo", "--job", Path.of("..", "examples", "digits.json").toString(), "--out", busy.toString());
            assertEquals(1, r.code(), r.err());
            assertTrue(r.err().contains("--out " + busy + " is in use by another run of trainer"), r.err());
            assertFalse(Files.exists(busy.resolve("metrics.jsonl")));
        } finally {
            held.close();
        }
        Run free = run("local", "--job", Path.of("..", "examples", "digits.json").toString(), "--metrics-dir",
                busy.toString());
        assertEquals(0, free.code(), free.err());
        assertTrue(Files.exists(busy.resolve("curves.png")));
        try (var files = Files.list(busy)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".partial")));
        }
    }

    /** A tiny IDX pair: {@code n} 2×2 images whose label is their first pixel's parity. */
    private static void idx(Path dir, String prefix, int n) throws java.io.IOException {
        java.io.ByteArrayOutputStream images = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream im = new java.io.DataOutputStream(images);
        im.writeInt(0x803);
        im.writeInt(n);
        im.writeInt(2);
        im.writeInt(2);
        java.io.ByteArrayOutputStream labels = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream lb = new java.io.DataOutputStream(labels);
        lb.writeInt(0x801);
        lb.writeInt(n);
        for (int i = 0; i < n; i++) {
            im.write(new byte[] {(byte) (i * 37), (byte) i, (byte) (255 - i), 7});
            lb.writeByte((i * 37) % 2);
        }
        Files.write(dir.resolve(prefix + "-images-idx3-ubyte"), images.toByteArray());
        Files.write(dir.resolve(prefix + "-labels-idx1-ubyte"), labels.toByteArray());
    }

    @Test
    void trainOnAnIdxFolderHoldsOutPartOfItWhenItHasNoTestFilesOrWhenAsked() throws Exception {
        Path idxDir = Files.createDirectories(dir.resolve("idx"));
        idx(idxDir, "train", 50);
        java.io.PrintStream stdout = System.out;
        java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(printed, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            Run r = run("train", "--idx-dir", idxDir.toString(), "--epochs", "1", "--hidden", "4");
            assertEquals(0, r.code(), r.err());
            assertTrue(printed.toString().contains("note: no t10k-images/t10k-labels files in " + idxDir
                    + ": 20% of the training rows are held out for validation"), printed.toString());
            assertTrue(printed.toString().contains("40 training rows, 10 validation rows"), printed.toString());
            idx(idxDir, "t10k", 10);
            printed.reset();
            r = run("train", "--idx-dir", idxDir.toString(), "--epochs", "1", "--hidden", "4");
            assertEquals(0, r.code(), r.err());
            assertTrue(printed.toString().contains("50 training rows, 10 validation rows"), printed.toString());
            printed.reset();
            r = run("train", "--idx-dir", idxDir.toString(), "--epochs", "1", "--hidden", "4", "--validation-split",
                    "0.5");
            assertEquals(0, r.code(), r.err());
            assertTrue(printed.toString().contains("25 training rows, 25 validation rows"), printed.toString());
        } finally {
            System.setOut(stdout);
        }
    }

    @Test
    void aMissingDatasetIsOneLineAndExitCode1() {
        Run r = run("train", "--csv", dir.resolve("nope.csv").toString(), "--label", "y");
        assertEquals(TrainerCli.JOB_FAILED, r.code());
        assertTrue(r.err().startsWith("trainer: ") && r.err().contains("nope.csv"), r.err());
        assertTrue(!r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    @Test
    void aValidationSplitOfZeroTrainsOnEveryRowWithoutValidation() throws Exception {
        Path metrics = dir.resolve("m.jsonl");
        Run r = run("train", "--csv", DIGITS.toString(), "--label", "digit", "--hidden", "16", "--epochs", "2",
                "--validation-split", "0", "--metrics-out", metrics.toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(metrics);
        assertEquals(2, lines.size());
        JsonNode last = new ObjectMapper().readTree(lines.get(1));
        assertTrue(last.get("val_loss").isNull() && last.get("val_accuracy").isNull(), last.toString());
        assertTrue(last.get("train_loss").asDouble() > 0, last.toString());
    }

    @Test
    void aValidationSplitThatLeavesNoRowsIsRefused() throws Exception {
        Path two = Files.writeString(dir.resolve("two.csv"), "a,y\n1,0\n2,1\n");
        Run r = run("train", "--csv", two.toString(), "--label", "y");
        assertEquals(TrainerCli.JOB_FAILED, r.code());
        assertTrue(r.err().contains("--validation-split 0.2 of 2 rows leaves 0 for validation and 2 for training"),
                r.err());
    }

    @Test
    void badOptionsAreUsageErrorsWithExitCode2() {
        assertEquals(2, run("train", "--epochs", "many").code());
        assertEquals(2, run("frobnicate").code());
        // every option's value is checked before the data are read, and a bad one is bad usage
        String[][] cases = {
            {"--optimizer", "adamm", "trainer: unknown --optimizer 'adamm'; known: sgd, adam,"},
            {"--lr", "-1", "trainer: --optimizer adam: learning rate must be >= 0, got -1.0"},
            {"--momentum", "0.9", "trainer: --optimizer adam: adam has no hyperparameter 'momentum'"},
            {"--schedule", "step", "trainer: unknown --schedule 'step'; known: constant, cosine"},
            {"--threads", "0", "trainer: --threads must be ≥ 1, got 0"},
            {"--loss", "hinge", "trainer: unknown --loss 'hinge'; known: cross_entropy, bce_with_logits, mse"},
            {"--normalize", "l2", "trainer: --normalize: unknown normalisation 'l2'"},
            // only the names a job file takes, so that a command line can be copied into a job
            {"--normalize", "standardise", "trainer: --normalize: unknown normalisation 'standardise'; known: none, "
                    + "min_max, standardize"},
            {"--clip-norm", "0", "trainer: --clip-norm must be > 0, got 0.0"},
            {"--validation-split", "1.5", "trainer: --validation-split must be in [0, 1) (0: no validation), got 1.5"},
        };
        for (String[] c : cases) {
            // a data file that is not there: the option is refused first
            Run r = run("train", "--csv", dir.resolve("none.csv").toString(), c[0], c[1]);
            assertEquals(ExitCodes.USAGE, r.code(), String.join(" ", c) + ": " + r.err());
            assertTrue(r.err().startsWith(c[2]), r.err());
            assertTrue(r.err().contains("(see 'trainer train --help')"), r.err());
        }
        // a loss that does not fit the data is the data's problem, said before training starts
        Run r = run("train", "--csv", DIGITS.toString(), "--label", "digit", "--loss", "bce_with_logits");
        assertEquals(TrainerCli.JOB_FAILED, r.code());
        assertTrue(r.err().contains("--loss bce_with_logits trains one output for two classes; the data have 10"),
                r.err());
    }

    /** The digits example job, with {@code csvPath} as its training data and {@code optimizer} (JSON). */
    private Path digitsJob(String csvPath, String optimizer) throws Exception {
        Path job = dir.resolve("job.json");
        Files.writeString(job, """
                {"name": "digits", "model": {"layers": [{"linear": {"out_features": 16}}, {"activation": {"type": "relu"}},
                  {"linear": {"out_features": 10}}]},
                 "loss": "cross_entropy", "optimizer": %s,
                 "data": {"train": {"csv": {"path": "%s", "label_column": "digit"}}, "validation_split": 0.2},
                 "batch_size": 64, "epochs": 2, "seed": 3}
                """.formatted(optimizer, csvPath.replace("\\", "/")));
        return job;
    }

    @Test
    void localReadsDataAnywhereUnlessGivenDataRootsAndThenAsANodeWould() throws Exception {
        // the job in one folder, its data in another that is no default data root
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.copy(DIGITS, data.resolve("digits.csv.gz"));
        Path job = Files.move(digitsJob(data.resolve("digits.csv.gz").toString(), "{\"name\": \"adam\"}"),
                Files.createDirectories(dir.resolve("jobs")).resolve("job.json"));
        Run r = run("local", "--job", job.toString(), "--workers", "1");
        assertEquals(0, r.code(), r.err());

        r = run("local", "--job", job.toString(), "--workers", "1", "--data-root", dir.resolve("other").toString());
        assertEquals(TrainerCli.JOB_FAILED, r.code());
        assertTrue(r.err().contains(data.resolve("digits.csv.gz") + " is outside the data roots")
                && r.err().contains("(given --data-root, trainer local reads data only under those folders and the job "
                        + "file's: add --data-root " + data + ", or give none to read any path)"), r.err());
        // the given roots and the job file's folder
        Files.move(data.resolve("digits.csv.gz"), job.resolveSibling("digits.csv.gz"));
        Files.writeString(job, Files.readString(job).replace(data.resolve("digits.csv.gz").toString(), "digits.csv.gz"));
        r = run("local", "--job", job.toString(), "--workers", "1", "--data-root", dir.resolve("other").toString());
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void localNamesWhatIsWrongWithAJobInOneMessage() throws Exception {
        Path job = digitsJob(dir.resolve("nope.csv").toString(), "{\"name\": \"adam\"}");
        Run r = run("local", "--job", job.toString());
        assertEquals(TrainerCli.JOB_FAILED, r.code());
        // named by its file, as a parse error is, whichever check found it
        assertEquals("trainer: invalid job: " + job + ": data.train.csv.path: no such file: " + dir.resolve("nope.csv"),
                r.err().strip());
        assertTrue(!r.err().contains("\tat "), "no stack trace: " + r.err());

        r = run("local", "--job", dir.resolve("no-such-job.json").toString());
        assertEquals(TrainerCli.JOB_FAILED, r.code());
        assertTrue(r.err().startsWith("trainer: no such file: ") && r.err().contains("no-such-job.json"), r.err());
    }

    @Test
    void aJobWhoseModelDivergesFailsAtOnceNamingTheStep() throws Exception {
        // lr 1e30: the first update sends the weights to ±1e30 and the second step's logits overflow
        Path job = digitsJob(DIGITS.toAbsolutePath().toString(), "{\"name\": \"sgd\", \"lr\": 1e30}");
        Run r = run("local", "--job", job.toString(), "--workers", "2", "--data-root",
                DIGITS.toAbsolutePath().getParent().toString());
        assertEquals(TrainerCli.JOB_FAILED, r.code());
        // the same on every worker: the job fails at that step, not after redoing it without each worker in turn
        assertTrue(r.err().startsWith("trainer: the job failed: step 1 (epoch 1), on worker worker-0"), r.err());
        assertTrue(r.err().contains("diverged"), r.err());
        assertTrue(!r.err().contains("no workers left") && !r.err().contains("\tat "), r.err());
    }

    @Test
    void anOutputThatCannotBeWrittenFailsBeforeTraining() throws Exception {
        Path job = digitsJob(DIGITS.toAbsolutePath().toString(), "{\"name\": \"adam\"}");
        String roots = DIGITS.toAbsolutePath().getParent().toString();
        Path notAFolder = Files.writeString(dir.resolve("plain-file"), "x");
        Path metrics = dir.resolve("metrics.jsonl");
        Run r = run("local", "--job", job.toString(), "--data-root", roots, "--metrics-out", metrics.toString(),
                "--export", notAFolder.resolve("model.safetensors").toString());
        assertEquals(TrainerCli.JOB_FAILED, r.code());
        assertTrue(r.err().startsWith("trainer: --export " + notAFolder.resolve("model.safetensors")
                + ": cannot create its folder " + notAFolder + ": " + notAFolder + " exists and is not a folder"), r.err());
        assertTrue(!Files.exists(metrics), "training started before the output was checked");

        r = run("local", "--job", job.toString(), "--data-root", roots, "--export", dir.toString());
        assertEquals(TrainerCli.JOB_FAILED, r.code());
        assertTrue(r.err().startsWith("trainer: --export " + dir + ": is a folder"), r.err());

        r = run("local", "--job", job.toString(), "--data-root", roots, "--export", job.toString());
        assertEquals(TrainerCli.JOB_FAILED, r.code());
        assertTrue(r.err().startsWith("trainer: --export " + job + " is the same file as the job file"), r.err());
        r = run("coordinator", "--job", job.toString(), "--state-dir", dir.resolve("state").toString(),
                "--metrics-out", metrics.toString(), "--export", metrics.toString());
        assertEquals(TrainerCli.JOB_FAILED, r.code());
        assertTrue(r.err().startsWith("trainer: --export " + metrics + " is the same file as --metrics-out"), r.err());

        r = run("train", "--csv", DIGITS.toString(), "--label", "digit", "--metrics-out", dir.toString());
        assertEquals(TrainerCli.JOB_FAILED, r.code());
        assertTrue(r.err().startsWith("trainer: --metrics-out " + dir + ": is a folder"), r.err());
    }

    @Test
    void everyCommandTellsItsVersionAndABadOptionIsOneLineWithAPointerToTheHelp() {
        for (String command : List.of("demo", "local", "train", "coordinator", "worker", "submit", "status")) {
            CommandLine cl = TrainerCli.commandLine();
            StringWriter out = new StringWriter();
            cl.setOut(new PrintWriter(out));
            assertEquals(0, cl.execute(command, "-V"), command);
            assertEquals("parallax " + ParallaxVersion.get(), out.toString().strip(), command);
        }
        Run r = run("status", "--limit", "0");
        assertEquals(ExitCodes.USAGE, r.code());
        assertEquals(List.of("trainer: --limit must be ≥ 1, got 0", "(see 'trainer status --help')"),
                r.err().lines().toList());
        r = run("local");
        assertEquals(ExitCodes.USAGE, r.code());
        assertEquals(List.of("trainer: no job file given: --job FILE, or FILE alone", "(see 'trainer local --help')"),
                r.err().lines().toList());
        r = run("local", "a.json", "--job", "b.json");
        assertEquals(ExitCodes.USAGE, r.code());
        assertEquals(List.of("trainer: give the job file once: --job b.json or a.json, not both",
                "(see 'trainer local --help')"), r.err().lines().toList());
    }

    @Test
    void theJobFileMayBeGivenAlone() throws Exception {
        Path job = digitsJob(DIGITS.toAbsolutePath().toString(), "{\"name\": \"adam\"}");
        Path metrics = dir.resolve("alone.jsonl");
        Run r = run("local", job.toString(), "--workers", "1", "--metrics-out", metrics.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(2, Files.readAllLines(metrics).size());
        // what it read, the features by name
        assertTrue(r.out().contains("data: " + DIGITS.toAbsolutePath().normalize() + " — 1438 training rows, 359 "
                + "validation rows, 64 features (pixel0, pixel1, pixel2, pixel3, pixel4, pixel5, pixel6, pixel7, pixel8, "
                + "pixel9, … 54 more), 10 classes"), r.out());
    }

    @Test
    void aCosineScheduleMayBringTheRateToZeroAsPyTorchsDoes() throws Exception {
        // t_max 1 of 2 epochs: epoch 2 trains at η_min = 0 (it failed: "learning rate must be > 0, got 0.0")
        Path job = digitsJob(DIGITS.toAbsolutePath().toString(), "{\"name\": \"adam\"}");
        Files.writeString(job, Files.readString(job).replace("\"batch_size\"",
                "\"schedule\": {\"type\": \"cosine\", \"t_max\": 1}, \"batch_size\""));
        Path metrics = dir.resolve("cosine.jsonl");
        Run r = run("local", job.toString(), "--workers", "1", "--metrics-out", metrics.toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(metrics);
        assertEquals(1e-3, new ObjectMapper().readTree(lines.get(0)).get("learning_rate").asDouble(), 1e-12);
        assertEquals(0.0, new ObjectMapper().readTree(lines.get(1)).get("learning_rate").asDouble());
    }

    @Test
    void trainLeavesOutTheColumnsToIgnore() {
        Run r = run("train", "--csv", DIGITS.toString(), "--label", "digit", "--ignore-column", "pixel0",
                "--ignore-column", "pixel63", "--epochs", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains(" 62 features, 10 classes"), r.out());
    }

    @Test
    void aModelTooLargeForTheJvmIsRefusedBeforeAnythingIsAllocated() throws Exception {
        // 1,000 replicas of a 4 M-parameter model: about 32 GB, whatever this JVM's heap
        Path job = dir.resolve("wide.json");
        Files.writeString(job, Files.readString(digitsJob(DIGITS.toAbsolutePath().toString(), "{\"name\": \"adam\"}"))
                .replace("\"out_features\": 16", "\"out_features\": 2000}},"
                        + " {\"activation\": {\"type\": \"relu\"}}, {\"linear\": {\"out_features\": 2000"));
        Run r = run("local", "--job", job.toString(), "--workers", "1000", "--data-root",
                DIGITS.toAbsolutePath().getParent().toString());
        assertEquals(TrainerCli.JOB_FAILED, r.code());
        assertTrue(r.err().startsWith("trainer: invalid job: " + job + ": model: the job needs about "), r.err());
        assertTrue(r.err().contains("(4,152,010 parameters, batch 64, the coordinator and 1000 workers, data "),
                r.err());
        assertTrue(r.err().contains(") but the JVM may use "), r.err());

        r = run("local", "--job", job.toString(), "--workers", "100000");
        assertEquals(ExitCodes.USAGE, r.code());
        assertTrue(r.err().startsWith("trainer: --workers must be between 1 and 1024, got 100000\n"
                + "(see 'trainer local --help')"), r.err());
    }

    @Test
    void trainHoldsItsOptionsToTheBoundsOfAJobFile() {
        String[][] cases = {
            {"--batch", "2147483647", "--batch must be between 1 and 1048576, got 2147483647"},
            {"--dropout", "-0.1", "--dropout must be in [0, 1), got -0.1"},
            {"--dropout", "NaN", "--dropout must be in [0, 1), got NaN"},
            {"--warmup", "-1", "--warmup must be ≥ 0 epochs, got -1"},
            {"--activation", "dropout", "unknown --activation 'dropout'; one of relu, leaky_relu"},
            {"--hidden", "30000,30000", "the model has 902280010 parameters, more than the 268435456"},
        };
        for (String[] c : cases) {
            Run r = run("train", "--csv", DIGITS.toString(), "--label", "digit", c[0], c[1]);
            // an option's own bounds are bad usage; a model too large for the data's rules is the job's
            int expected = c[2].startsWith("the model has") ? TrainerCli.JOB_FAILED : ExitCodes.USAGE;
            assertEquals(expected, r.code(), String.join(" ", c));
            assertTrue(r.err().startsWith("trainer: " + c[2]), r.err());
        }
        // the job's own rule for batch norm (1,797 rows, 20% held out: 1,438 train)
        Run r = run("train", "--csv", DIGITS.toString(), "--label", "digit", "--batch-norm", "--batch", "1437");
        assertEquals(TrainerCli.JOB_FAILED, r.code());
        assertTrue(r.err().startsWith("trainer: --batch-norm: the last batch of each epoch holds 1 row (1438 training "
                + "rows = 1 × 1437 + 1)"), r.err());
    }

    @Test
    void aNodeWhosePortIsTakenSaysSoInOneLine() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            String port = String.valueOf(taken.getLocalPort());
            Run r = run("coordinator", "--host", "127.0.0.1", "--port", port, "--state-dir", dir.toString());
            assertEquals(TrainerCli.JOB_FAILED, r.code());
            assertTrue(r.err().startsWith("trainer: cannot listen on 127.0.0.1:" + port + ", the cluster port (--port)"),
                    r.err());
            r = run("worker", "--host", "127.0.0.1", "--port", port);
            assertEquals(TrainerCli.JOB_FAILED, r.code());
            assertTrue(r.err().startsWith("trainer: cannot listen on 127.0.0.1:" + port + ", the cluster port (--port)"),
                    r.err());
            assertTrue(!r.err().contains("\tat "), r.err());
        }
    }

    @Test
    void aPortTakenAfterTheCheckButBeforeAkkasBindIsTheSameOneLine() throws Exception {
        // another node started at the same moment wins the port between the check and the bind
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> NodeConfig.createSystem(
                    akka.actor.typed.javadsl.Behaviors.empty(), NodeConfig.worker("127.0.0.1", port, "127.0.0.1", 1, 1),
                    "127.0.0.1", port));
            assertEquals("cannot listen on 127.0.0.1:" + port + ", the cluster port (--port): Address already in use "
                    + "(another node or process took it as this one started: stop it or choose another port)",
                    e.getMessage());
        }
    }

    @Test
    void grpcBindListensOnAnotherAddressThanTheOneTheCoordinatorAdvertises() throws Exception {
        // a pod's case: the coordinator advertises its own address (127.0.0.2 here), and a client
        // through kubectl port-forward comes in on loopback (127.0.0.1)
        int akka;
        int grpc;
        try (ServerSocket a = new ServerSocket(0); ServerSocket g = new ServerSocket(0)) {
            akka = a.getLocalPort();
            grpc = g.getLocalPort();
        }
        Path out = dir.resolve("coordinator.txt");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), TrainerCli.class.getName(), "coordinator", "--host", "127.0.0.2",
                "--port", String.valueOf(akka), "--grpc-port", String.valueOf(grpc), "--grpc-bind", "0.0.0.0",
                "--state-dir", dir.resolve("state").toString())
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
            while (!Files.readString(out).contains("coordinator up") && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            String up = Files.readString(out);
            assertTrue(up.contains("gRPC 127.0.0.2:" + grpc + " (tensor plane, job service; listening on 0.0.0.0)"), up);
            CommandLine cl = TrainerCli.commandLine();
            StringWriter status = new StringWriter();
            cl.setOut(new PrintWriter(status));
            cl.setErr(new PrintWriter(status));
            assertEquals(0, cl.execute("status", "--server", "127.0.0.1:" + grpc), status.toString());
        } finally {
            p.destroy();
            assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "coordinator did not stop");
        }
    }

    /**
     * {@code trainer NODE} on this class path under deploy/supervise-node.sh, both writing to
     * {@code out}. A worker with no coordinator to join keeps trying: up, but never in a cluster.
     */
    private Process supervised(String node, Path out) throws Exception {
        int akka;
        int other;
        try (ServerSocket a = new ServerSocket(0); ServerSocket g = new ServerSocket(0)) {
            akka = a.getLocalPort();
            other = g.getLocalPort();
        }
        List<String> command = new ArrayList<>(List.of("bash", Path.of("supervise-node.sh").toAbsolutePath().toString(),
                "--name", node, "--", Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), TrainerCli.class.getName(), node, "--host", "127.0.0.1",
                "--port", String.valueOf(akka)));
        command.addAll(node.equals("coordinator")
                ? List.of("--grpc-port", String.valueOf(other), "--state-dir", dir.resolve("state").toString())
                : List.of("--join", "127.0.0.1:" + other));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    }

    @ParameterizedTest
    @ValueSource(strings = {"coordinator", "worker"})
    void aNodeWhoseSupervisorIsKilledStopsByItself(String node) throws Exception {
        String up = node.equals("coordinator") ? "coordinator up" : " joining akka://";
        Path out = dir.resolve("supervised.txt");
        Process supervisor = supervised(node, out);
        ProcessHandle jvm = null;
        try {
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
            while (!Files.readString(out).contains(up) && supervisor.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(Files.readString(out).contains(up), Files.readString(out));
            jvm = supervisor.toHandle().children().findFirst().orElseThrow();
            supervisor.destroyForcibly(); // kill -9: it cannot pass anything on
            assertTrue(supervisor.waitFor(10, java.util.concurrent.TimeUnit.SECONDS));
            assertTrue(jvm.onExit().get(60, java.util.concurrent.TimeUnit.SECONDS) != null);
            assertTrue(Files.readString(out).contains("trainer: " + node + ": its supervisor (pid "
                    + supervisor.pid() + ") is gone; stopping"), Files.readString(out));
        } finally {
            supervisor.destroyForcibly();
            if (jvm != null && jvm.isAlive()) {
                jvm.destroyForcibly();
            }
        }
    }

    /** Its supervisor killed in the second the JVM takes to start: the node still stops by itself. */
    @ParameterizedTest
    @ValueSource(strings = {"coordinator", "worker"})
    void aNodeWhoseSupervisorIsGoneBeforeItLooksStopsAtOnce(String node) throws Exception {
        Path out = dir.resolve("orphan.txt");
        Process supervisor = supervised(node, out);
        ProcessHandle jvm = null;
        try {
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            while (jvm == null && System.nanoTime() < deadline) {
                jvm = supervisor.toHandle().children().findFirst().orElse(null);
            }
            assertTrue(jvm != null, "the supervisor started no node");
            supervisor.destroyForcibly(); // before the JVM is up: it cannot watch what is gone
            assertTrue(supervisor.waitFor(10, java.util.concurrent.TimeUnit.SECONDS));
            assertTrue(jvm.onExit().get(60, java.util.concurrent.TimeUnit.SECONDS) != null);
            assertTrue(Files.readString(out).contains("trainer: " + node + ": its supervisor (pid " + supervisor.pid()
                    + ") is gone; stopping"), Files.readString(out));
        } finally {
            supervisor.destroyForcibly();
            if (jvm != null && jvm.isAlive()) {
                jvm.destroyForcibly();
            }
        }
    }

    @Test
    void nodeOptionsOutOfRangeAreRefusedBeforeTheNodeStarts() {
        String state = dir.resolve("state").toString();
        String[][] cases = {
            {"coordinator", "--port", "70000", "--state-dir", state, "--port must be a port 1-65535, got 70000"},
            {"coordinator", "--grpc-port", "0", "--state-dir", state, "--grpc-port must be a port 1-65535, got 0"},
            {"coordinator", "--step-timeout", "0", "--state-dir", state, "--step-timeout must be at least 1 second"},
            {"coordinator", "--worker-wait", "-5", "--state-dir", state, "--worker-wait must be at least 1 second"},
            {"coordinator", "--checkpoint-every", "-1", "--state-dir", state, "--checkpoint-every must be ≥ 0, got -1"},
            {"worker", "--port", "70000", "--port must be a port 0-65535 (0: any free one), got 70000"},
            {"worker", "--plane-deadline", "0", "--plane-deadline must be at least 1 second"},
            {"worker", "--join", "127.0.0.1:99999", "--join must be HOST:PORT with a port 1-65535"},
        };
        for (String[] c : cases) {
            String[] args = java.util.Arrays.copyOf(c, c.length - 1);
            Run r = run(args);
            assertEquals(ExitCodes.USAGE, r.code(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.err().startsWith("trainer: " + c[c.length - 1]), r.err());
        }
    }

    @Test
    void aLabelColumnThatIsNotThereIsNamed() {
        Run r = run("train", "--csv", DIGITS.toString(), "--label", "class");
        assertEquals(TrainerCli.JOB_FAILED, r.code());
        assertTrue(r.err().contains("no column 'class' (the label column: give --label COLUMN); its columns: [pixel0,"),
                r.err());
        // the default, 'label', says which option to give too
        r = run("train", "--csv", DIGITS.toString());
        assertEquals(TrainerCli.JOB_FAILED, r.code());
        assertTrue(r.err().contains("no column 'label' (the label column: give --label COLUMN)"), r.err());
    }

    /**
     * A separate process, stdout sent to a file that already holds a line (as {@code >>} does):
     * the file gets that line and the metrics, one JSON object per line and nothing else — the
     * epoch lines go to stderr — and the model the same way.
     */
    @Test
    void outputsToStandardOutputGetItAlone() throws Exception {
        Path out = Files.writeString(dir.resolve("appended.txt"), "first\n");
        int code = trainerProcess(out, "train", "--csv", DIGITS.toAbsolutePath().toString(), "--label", "digit",
                "--epochs", "2", "--hidden", "16", "--metrics-out", "/dev/stdout");
        assertEquals(0, code, Files.readString(dir.resolve("err.txt")));
        List<String> lines = Files.readAllLines(out);
        assertEquals(3, lines.size(), lines.toString());
        assertEquals("first", lines.get(0));
        assertEquals(2, new ObjectMapper().readTree(lines.get(2)).get("epoch").asInt());
        assertTrue(Files.readString(dir.resolve("err.txt")).contains("epoch   2"));

        Path model = dir.resolve("model-on-stdout.safetensors");
        assertEquals(0, trainerProcess(model, "train", "--csv", DIGITS.toAbsolutePath().toString(), "--label", "digit",
                "--epochs", "1", "--hidden", "16", "--export", "/dev/stdout"));
        assertEquals(64 * 16 + 16 + 16 * 10 + 10, ModelFile.load(model).parameterCount());
    }

    /**
     * {@code local} in a JVM of its own, whose logging starts with the command: it prints the job's
     * lines and no INFO lines from Akka or the worker registry.
     */
    @Test
    void localPrintsTheJobWithoutTheClusterMachinerysInfoLines() throws Exception {
        Path out = dir.resolve("local-stdout.txt");
        int code = trainerProcess(out, "local", "--job", Path.of("..", "examples", "digits.json").toAbsolutePath().toString(),
                "--metrics-out", dir.resolve("local-metrics.jsonl").toString());
        String printed = Files.readString(out) + Files.readString(dir.resolve("err.txt"));
        assertEquals(0, code, printed);
        assertTrue(printed.contains("epoch  15"), printed);
        assertFalse(printed.contains(" INFO "), printed);
    }

    /**
     * SIGTERM (as Ctrl-C) in the middle of {@code local}: the run stops after its step, closes its
     * files (the chart is drawn), says how far it got, and writes no model.
     */
    @Test
    void anInterruptedLocalRunSaysHowFarItGotAndClosesItsFiles() throws Exception {
        Path job = dir.resolve("endless.json");
        Files.writeString(job, Files.readString(Path.of("..", "examples", "digits.json"))
                .replace("\"epochs\": 15", "\"epochs\": 100000")
                .replace("\"data/digits.csv.gz\"", "\"" + DIGITS.toAbsolutePath().toString().replace("\\", "/") + "\""));
        Path out = dir.resolve("interrupted-stdout.txt");
        Path metrics = dir.resolve("interrupted");
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), TrainerCli.class.getName(), "local", "--job",
                job.toString(), "--data-root", DIGITS.toAbsolutePath().getParent().toString(), "--metrics-dir",
                metrics.toString(), "--export", dir.resolve("never.safetensors").toString()));
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile())
                .redirectError(dir.resolve("err.txt").toFile()).start();
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(90);
        while (!Files.readString(out).contains("epoch   3") && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(p.isAlive(), Files.readString(out) + Files.readString(dir.resolve("err.txt")));
        p.destroy(); // SIGTERM
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "trainer did not exit");
        String err = Files.readString(dir.resolve("err.txt"));
        assertEquals(143, p.exitValue(), err);
        assertTrue(err.matches("(?s).*trainer: interrupted after \\d+ epoch\\(s\\); no model was written \\(the epochs "
                + "done are in " + java.util.regex.Pattern.quote(metrics.toString()) + "\\).*"), err);
        assertFalse(err.contains("Exception"), err);
        assertTrue(Files.size(metrics.resolve("curves.png")) > 1000, "the chart is drawn as the files close");
        assertFalse(Files.exists(dir.resolve("never.safetensors")));
    }

    /**
     * {@code local --checkpoint}: a run stopped by SIGTERM and started again with the same command
     * resumes from its checkpoint and ends with the very model of a run never stopped; the metrics
     * file holds every epoch once, and the checkpoint is gone.
     */
    @Test
    void aLocalRunStoppedAndStartedAgainResumesToTheModelOfAStraightRun() throws Exception {
        Path job = dir.resolve("long.json");
        Files.writeString(job, Files.readString(Path.of("..", "examples", "digits.json"))
                .replace("\"epochs\": 15", "\"epochs\": 150").replace("\"batch_size\": 32", "\"batch_size\": 8")
                .replace("\"data/digits.csv.gz\"", "\"" + DIGITS.toAbsolutePath().toString().replace("\\", "/") + "\""));
        String roots = DIGITS.toAbsolutePath().getParent().toString();
        Path straight = dir.resolve("straight.safetensors");
        assertEquals(0, run("local", "--job", job.toString(), "--data-root", roots, "--workers", "2", "--export",
                straight.toString()).code());

        Path checkpoint = dir.resolve("run.ckpt");
        Path metrics = dir.resolve("resumed");
        Path resumed = dir.resolve("resumed.safetensors");
        List<String> args = List.of("local", "--job", job.toString(), "--data-root", roots, "--workers", "2",
                "--checkpoint", checkpoint.toString(), "--checkpoint-every", "0", "--metrics-dir", metrics.toString(),
                "--export", resumed.toString());
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), TrainerCli.class.getName()));
        command.addAll(args);
        Path out = dir.resolve("first-stdout.txt");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile())
                .redirectError(dir.resolve("err.txt").toFile()).start();
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(90);
        while (!Files.readString(out).contains("epoch   3") && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        p.destroy(); // SIGTERM
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "trainer did not exit");
        String err = Files.readString(dir.resolve("err.txt"));
        assertEquals(143, p.exitValue(), "stopped before the end: " + Files.readString(out) + err);
        assertTrue(err.contains("; the same command resumes it from " + checkpoint), err);
        assertTrue(Files.exists(checkpoint));
        assertFalse(Files.exists(resumed));

        Run again = run(args.toArray(String[]::new));
        assertEquals(0, again.code(), again.err());
        assertArrayEquals(Files.readAllBytes(straight), Files.readAllBytes(resumed),
                "the resumed run's model is the straight run's");
        List<String> lines = Files.readAllLines(metrics.resolve("metrics.jsonl"));
        assertEquals(150, lines.size());
        for (int i = 0; i < lines.size(); i++) {
            assertEquals(i + 1, new ObjectMapper().readTree(lines.get(i)).get("epoch").asInt());
        }
        assertFalse(Files.exists(checkpoint), "the checkpoint goes when the run ends");
    }

    /** Runs the trainer in its own JVM, stdout appended to {@code out}, stderr to err.txt; its exit code. */
    private int trainerProcess(Path out, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), TrainerCli.class.getName()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()))
                .redirectError(dir.resolve("err.txt").toFile()).start();
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "trainer did not exit");
        return p.exitValue();
    }
}
