package io.parallax.engine.io;

import static io.parallax.engine.io.CheckpointResumeTest.OPTIMIZERS;
import static io.parallax.engine.io.CheckpointResumeTest.TRAIN;
import static io.parallax.engine.io.CheckpointResumeTest.assertArrayBits;
import static io.parallax.engine.io.CheckpointResumeTest.plainConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.engine.backend.Backends;
import io.parallax.engine.io.CheckpointResumeTest.OptimizerCase;
import io.parallax.engine.io.CheckpointResumeTest.Run;
import io.parallax.engine.layer.BatchNorm1d;
import io.parallax.engine.layer.Dropout;
import io.parallax.engine.layer.Linear;
import io.parallax.engine.layer.ReLU;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.optim.OptimizerState;
import io.parallax.engine.optim.Optimizers;
import io.parallax.engine.optim.ParameterGroups;
import io.parallax.engine.train.TrainingConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint that does not fit is refused with a message naming the difference, and leaves the
 * model and the optimizer it was loaded into exactly as they were.
 */
class CheckpointRefusalTest {

    private static final OptimizerCase SGD = OPTIMIZERS.get(0);
    private static final OptimizerCase ADAM = OPTIMIZERS.get(1);

    @TempDir
    Path dir;
    private Path adamFile;
    private Path sgdFile;

    @BeforeEach
    void save() throws IOException {
        adamFile = saveAfterSteps(ADAM, "adam.safetensors");
        sgdFile = saveAfterSteps(SGD, "sgd.safetensors");
    }

    private Path saveAfterSteps(OptimizerCase opt, String name) throws IOException {
        Run run = Run.fresh(opt, plainConfig(), 1);
        run.trainer().trainSteps(TRAIN, 3);
        Path file = dir.resolve(name);
        Checkpoint.save(file, run.model(), run.optimizer(), run.trainer().position());
        return file;
    }

    /** A model like the tests' one, with another hidden width or dropout rate. */
    private static Sequential model(int hidden, float dropout) {
        return new Sequential(30, List.of(new Linear(30, hidden), new BatchNorm1d(hidden), new ReLU(),
                new Dropout(dropout), new Linear(hidden, 2)), Backends.cpu(), 3);
    }

    /** Expects {@code load} to fail with {@code type}, a message holding every fragment, and no change. */
    private static <T extends Throwable> void assertRefused(Class<T> type, Sequential model, Optimizer optimizer,
            Executable load, String... fragments) {
        float[] params = model.parameters().toArray();
        float[] buffers = model.buffers().toArray();
        OptimizerState state = optimizer.state();
        T e = assertThrows(type, load);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "expected '" + f + "' in: " + e.getMessage());
        }
        assertArrayBits(params, model.parameters().toArray(), "parameters after a refused load");
        assertArrayBits(buffers, model.buffers().toArray(), "buffers after a refused load");
        OptimizerState after = optimizer.state();
        assertEquals(state.counters(), after.counters());
        assertEquals(state.scalars(), after.scalars());
        state.tensors().forEach((k, v) -> assertArrayBits(v, after.tensor(k), "optimizer " + k));
    }

    @Test
    void anotherArchitectureIsRefusedNamingTheLayer() {
        Sequential wider = model(16, 0.3f);
        Optimizer opt = ADAM.build(wider);
        assertRefused(IllegalArgumentException.class, wider, opt, () -> Checkpoint.load(adamFile, wider, opt),
                "checkpoint of another model", "layer 0:", "\"out_features\":12", "\"out_features\":16",
                "layer 1:", "layer 4:");

        Sequential otherDropout = model(12, 0.5f);
        Optimizer opt2 = ADAM.build(otherDropout);
        assertRefused(IllegalArgumentException.class, otherDropout, opt2,
                () -> Checkpoint.load(adamFile, otherDropout, opt2), "layer 3: checkpoint {\"type\":\"dropout\"",
                "\"p\":0.3", "\"p\":0.5");
    }

    @Test
    void anotherOptimizerKindIsRefused() {
        Sequential m = model(12, 0.3f);
        Optimizer adamw = Optimizers.create("adamw", Map.of(), ParameterGroups.of(m));
        assertRefused(IllegalArgumentException.class, m, adamw, () -> Checkpoint.load(adamFile, m, adamw),
                "holds the state of the optimizer Adam (Adam(lr=", "this optimizer is AdamW");
        Optimizer sgd = SGD.build(m);
        assertRefused(IllegalArgumentException.class, m, sgd, () -> Checkpoint.load(adamFile, m, sgd),
                "holds the state of the optimizer Adam", "this optimizer is SGD");
    }

    @Test
    void otherHyperparametersAreRefusedNamingThem() {
        Sequential m = model(12, 0.3f);
        Optimizer sgd = Optimizers.create("sgd", Map.of("lr", 0.05, "momentum", 0.8, "nesterov", true,
                "weight_decay", 1e-4), ParameterGroups.of(m));
        assertRefused(IllegalArgumentException.class, m, sgd, () -> Checkpoint.load(sgdFile, m, sgd),
                "other hyperparameters: momentum: checkpoint 0.9, this optimizer 0.8");

        Optimizer adam = Optimizers.create("adam", Map.of("lr", 3e-3, "amsgrad", true, "weight_decay", 1e-4,
                "betas", List.of(0.8, 0.999)), ParameterGroups.of(m));
        assertRefused(IllegalArgumentException.class, m, adam, () -> Checkpoint.load(adamFile, m, adam),
                "betas: checkpoint (0.9, 0.999), this optimizer (0.8, 0.999)");

        // amsgrad keeps a third buffer: the state itself does not fit
        Optimizer plainAdam = Optimizers.create("adam", Map.of("lr", 3e-3, "weight_decay", 1e-4),
                ParameterGroups.of(m));
        assertRefused(IllegalArgumentException.class, m, plainAdam, () -> Checkpoint.load(adamFile, m, plainAdam),
                "max_exp_avg_sq");
    }

    @Test
    void aDifferentLearningRateIsNotAHyperparameterMismatch() throws IOException {
        Sequential m = model(12, 0.3f);
        Optimizer adam = Optimizers.create("adam", Map.of("lr", 0.5, "amsgrad", true, "weight_decay", 1e-4),
                ParameterGroups.of(m));
        Checkpoint.load(adamFile, m, adam);
        assertEquals(3e-3, adam.learningRate()); // the rate is state: restored from the file
        assertEquals(3, adam.stepCount());
    }

    @Test
    void otherParameterGroupsAreRefusedNamingTheSegment() {
        Sequential m = model(12, 0.3f);
        ParameterGroups groups = ParameterGroups.of(m).withLearningRateScale(ParameterGroups.layers(0), 0.1);
        Optimizer adam = Optimizers.create("adam", ADAM.hyperparameters(), groups);
        assertRefused(IllegalArgumentException.class, m, adam, () -> Checkpoint.load(adamFile, m, adam),
                "other parameter groups", "segment 0: checkpoint {\"name\":\"0.weight\"", "\"lr_scale\":1.0",
                "\"lr_scale\":0.1", "segment 1:");

        Sequential frozen = model(12, 0.3f);
        frozen.freezeFirst(5); // every layer: six segments differ, four are listed
        Optimizer adam2 = ADAM.build(frozen);
        assertRefused(IllegalArgumentException.class, frozen, adam2, () -> Checkpoint.load(adamFile, frozen, adam2),
                "\"frozen\":false", "\"frozen\":true", "and 2 more");
    }

    @Test
    void aTruncatedFileFailsCleanly() throws IOException {
        byte[] whole = Files.readAllBytes(adamFile);
        long headerLength = java.nio.ByteBuffer.wrap(whole, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        for (long length : new long[] {0, 5, 8 + headerLength / 2, 8 + headerLength, 8 + headerLength + 100,
                whole.length - 4, whole.length - 1}) {
            Path cut = dir.resolve("cut-" + length + ".safetensors");
            Files.write(cut, Arrays.copyOf(whole, (int) length));
            Sequential m = model(12, 0.3f);
            Optimizer adam = ADAM.build(m);
            assertRefused(SafeTensorsException.class, m, adam, () -> Checkpoint.load(cut, m, adam), cut.toString());
        }
    }

    @Test
    void aCheckpointWhoseBytesChangedOnDiskIsRefusedAsDamaged() throws IOException {
        byte[] whole = Files.readAllBytes(adamFile);
        for (int at : new int[] {whole.length - 1, whole.length / 2}) {
            byte[] damaged = whole.clone();
            damaged[at] ^= 0x10; // one bit of one weight or optimizer value: the file still parses
            Path file = dir.resolve("damaged-" + at + ".safetensors");
            Files.write(file, damaged);
            Sequential m = model(12, 0.3f);
            Optimizer adam = ADAM.build(m);
            assertRefused(SafeTensorsException.class, m, adam, () -> Checkpoint.load(file, m, adam),
                    file.toString(), "its bytes were changed after it was written", "damaged");
        }
    }

    @Test
    void aCheckpointWhosePositionChangedOnDiskIsRefusedAsDamaged() throws IOException {
        String whole = new String(Files.readAllBytes(adamFile), StandardCharsets.ISO_8859_1);
        String step = "\\\"global_step\\\":3"; // a JSON string in the header: its quotes escaped
        assertTrue(whole.contains(step), "the saved position");
        // the same length: the header still parses, and would resume at the wrong step
        Path file = dir.resolve("moved.safetensors");
        Files.write(file, whole.replace(step, "\\\"global_step\\\":7").getBytes(StandardCharsets.ISO_8859_1));
        Sequential m = model(12, 0.3f);
        Optimizer adam = ADAM.build(m);
        assertRefused(SafeTensorsException.class, m, adam, () -> Checkpoint.load(file, m, adam),
                file.toString(), "its bytes were changed after it was written", "damaged");
    }

    @Test
    void aCheckpointWrittenWithoutAChecksumStillLoads() throws IOException {
        String header = new String(Files.readAllBytes(adamFile), StandardCharsets.ISO_8859_1);
        Matcher entry = Pattern.compile(",\"" + Pattern.quote(Checkpoint.CHECKSUM_KEY) + "\":\"[0-9a-f]{8}\"")
                .matcher(header);
        assertTrue(entry.find(), "the checksum entry in the header");
        // as a checkpoint of before the checksum: the entry blanked, the header's length kept
        String older = header.substring(0, entry.start()) + " ".repeat(entry.end() - entry.start())
                + header.substring(entry.end());
        Path file = dir.resolve("older.safetensors");
        Files.write(file, older.getBytes(StandardCharsets.ISO_8859_1));
        assertFalse(Checkpoint.readMetadata(file).containsKey(Checkpoint.CHECKSUM_KEY));

        Sequential fromOlder = model(12, 0.3f);
        Optimizer adamOlder = ADAM.build(fromOlder);
        Sequential fromCurrent = model(12, 0.3f);
        Optimizer adamCurrent = ADAM.build(fromCurrent);
        assertEquals(Checkpoint.load(adamFile, fromCurrent, adamCurrent), Checkpoint.load(file, fromOlder, adamOlder));
        assertArrayBits(fromCurrent.parameters().toArray(), fromOlder.parameters().toArray(), "parameters");
    }

    @Test
    void aModelFileIsNotACheckpoint() throws IOException {
        Sequential m = model(12, 0.3f);
        Path file = dir.resolve("model.safetensors");
        ModelFile.save(m, file);
        Optimizer adam = ADAM.build(m);
        assertRefused(SafeTensorsException.class, m, adam, () -> Checkpoint.load(file, m, adam),
                "not a checkpoint: no training position");
    }

    @Test
    void aTrainerRefusesAPositionOfAnotherSeedOrBatchSize() throws IOException {
        var at = Checkpoint.readPosition(adamFile);
        TrainingConfig base = plainConfig();
        Run otherSeed = Run.fresh(ADAM, new TrainingConfig(base.epochs(), base.batchSize(), base.seed() + 1, true,
                null, null, null), 1);
        var e = assertThrows(IllegalArgumentException.class, () -> otherSeed.trainer().resume(at));
        assertTrue(e.getMessage().contains("seed " + base.seed() + ", this trainer's seed is " + (base.seed() + 1)),
                e.getMessage());
        Run otherBatch = Run.fresh(ADAM, new TrainingConfig(base.epochs(), 64, base.seed(), true, null, null, null), 1);
        e = assertThrows(IllegalArgumentException.class, () -> otherBatch.trainer().resume(at));
        assertTrue(e.getMessage().contains("batch size 32, this trainer's batch size is 64"), e.getMessage());
    }

    @Test
    void extraMetadataComesBackAndMayNotReplaceTheFilesOwn() throws IOException {
        Run run = Run.fresh(ADAM, plainConfig(), 1);
        run.trainer().trainSteps(TRAIN, 2);
        Path file = dir.resolve("extra.safetensors");
        Checkpoint.save(file, run.model(), run.optimizer(), run.trainer().position(),
                Map.of("coordinator.epoch_progress", "{\"loss_sum\": 1.5}"));
        Map<String, String> metadata = Checkpoint.readMetadata(file);
        assertEquals("{\"loss_sum\": 1.5}", metadata.get("coordinator.epoch_progress"));
        assertEquals(run.trainer().position(), Checkpoint.readPosition(file));
        for (String own : List.of(Checkpoint.POSITION_KEY, ModelFile.MODEL_KEY, "format")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.save(
                    dir.resolve("refused.safetensors"), run.model(), run.optimizer(), run.trainer().position(),
                    Map.of(own, "x")));
            assertTrue(e.getMessage().contains("'" + own + "'"), e.getMessage());
        }
        assertTrue(Files.notExists(dir.resolve("refused.safetensors")));
    }
}
