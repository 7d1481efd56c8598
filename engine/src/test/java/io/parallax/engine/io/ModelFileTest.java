package io.parallax.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.engine.backend.Backends;
import io.parallax.engine.data.InputFormat;
import io.parallax.engine.data.Preprocessing;
import io.parallax.engine.layer.BatchNorm1d;
import io.parallax.engine.layer.Dropout;
import io.parallax.engine.layer.Layer;
import io.parallax.engine.layer.Layers;
import io.parallax.engine.layer.LeakyReLU;
import io.parallax.engine.layer.Linear;
import io.parallax.engine.layer.ReLU;
import io.parallax.engine.model.NamedTensor;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Saving and loading whole models: names, round trips, partial loads and mismatches. */
class ModelFileTest {

    @TempDir
    Path dir;

    /** A model whose every tensor and counter has moved away from its initial value. */
    static Sequential trainedModel(long seed) {
        Sequential m = new Sequential(6, List.of(new Linear(6, 8), new BatchNorm1d(8), new LeakyReLU(0.2f),
                new Dropout(0.25f), new Linear(8, 4, false), new BatchNorm1d(4, 1e-3f, 0.3f, true)),
                Backends.cpu(), seed);
        SplittableRandom random = new SplittableRandom(seed);
        for (NamedTensor t : m.namedParameters()) {
            if (t.layer() instanceof BatchNorm1d) {
                t.tensor().copyFrom(randomArray(random, (int) t.tensor().size()));
            }
        }
        for (int step = 0; step < 3; step++) {
            m.forward(Tensor.of(Backends.cpu(), randomArray(random, 5 * 6), 5, 6));
        }
        return m;
    }

    static float[] randomArray(SplittableRandom random, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (random.nextDouble() * 4 - 2);
        }
        return a;
    }

    @Test
    void saveThenLoadIsBitExact() throws IOException {
        Sequential original = trainedModel(7);
        Path file = dir.resolve("model.safetensors");
        ModelFile.save(original, file);
        Sequential loaded = ModelFile.load(file, Backends.cpu());

        assertEquals(original.toString(), loaded.toString());
        assertBitsEqual(original.parameters().toArray(), loaded.parameters().toArray());
        assertBitsEqual(original.buffers().toArray(), loaded.buffers().toArray());
        for (int i : new int[] {1, 5}) {
            assertEquals(3, ((BatchNorm1d) original.layer(i)).numBatchesTracked());
            assertEquals(3, ((BatchNorm1d) loaded.layer(i)).numBatchesTracked());
        }
        Tensor x = Tensor.of(Backends.cpu(), randomArray(new SplittableRandom(99), 7 * 6), 7, 6);
        assertBitsEqual(original.eval().forward(x).toArray(), loaded.eval().forward(x).toArray());
    }

    @Test
    void filesUsePyTorchNamesLayoutsAndDtypes() throws IOException {
        Sequential m = trainedModel(3);
        Path file = dir.resolve("names.safetensors");
        ModelFile.save(m, file, Map.of("epoch", "12"));
        try (SafeTensorsReader r = SafeTensorsReader.open(file)) {
            assertEquals(new TreeSet<>(List.of("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                    "1.running_var", "1.num_batches_tracked", "4.weight", "5.weight", "5.bias", "5.running_mean",
                    "5.running_var", "5.num_batches_tracked")),
                    new TreeSet<>(r.tensors().stream().map(TensorInfo::name).toList()));
            assertArrayEquals(new long[] {8, 6}, r.info("0.weight").shape());
            assertArrayEquals(new long[] {4, 8}, r.info("4.weight").shape());
            assertEquals(DType.F32, r.info("1.running_var").dtype());
            assertEquals(DType.I64, r.info("1.num_batches_tracked").dtype());
            assertArrayEquals(new long[0], r.info("1.num_batches_tracked").shape());
            assertArrayEquals(new long[] {3}, r.readLongs("5.num_batches_tracked"));
            assertArrayEquals(m.namedParameters().get(0).tensor().toArray(), r.readFloats("0.weight"));
            assertEquals("pt", r.metadata().get("format"));
            assertEquals("1", r.metadata().get(ModelFile.VERSION_KEY));
            assertEquals("12", r.metadata().get("epoch"));
            assertEquals(ModelDescription.of(m), ModelDescription.fromJson(r.metadata().get(ModelFile.MODEL_KEY)));
        }
        assertThrows(IllegalArgumentException.class, () -> ModelFile.save(m, file, Map.of("parallax.x", "1")));
    }

    @Test
    void loadIntoFillsAModelTheCallerBuilt() throws IOException {
        Sequential original = trainedModel(11);
        Path file = dir.resolve("w.safetensors");
        ModelFile.save(original, file);
        Sequential other = trainedModel(12);
        ((BatchNorm1d) other.layer(1)).setNumBatchesTracked(0);
        LoadResult result = ModelFile.loadInto(other, file);
        assertEquals(13, result.loaded().size());
        assertEquals(List.of(), result.missing());
        assertEquals(List.of(), result.unused());
        assertBitsEqual(original.parameters().toArray(), other.parameters().toArray());
        assertBitsEqual(original.buffers().toArray(), other.buffers().toArray());
        assertEquals(3, ((BatchNorm1d) other.layer(1)).numBatchesTracked());
    }

    @Test
    void describesAndRebuildsEveryLayerType() throws IOException {
        List<Layer> layers = List.of(new Linear(5, 6), Layers.create("relu", Map.of()),
                Layers.create("leaky_relu", Map.of("negative_slope", 0.3)), Layers.create("elu", Map.of("alpha", 0.7)),
                Layers.activation("sigmoid"), Layers.activation("tanh"), Layers.activation("swish"),
                Layers.activation("identity"), Layers.activation("binary_step"),
                Layers.create("dropout", Map.of("p", 0.125)),
                new BatchNorm1d(6, 1e-3f, 0.01f, false), new BatchNorm1d(6), new Linear(6, 3, false),
                Layers.activation("softmax"));
        List<String> types = new ArrayList<>();
        layers.forEach(l -> types.add(l.type()));
        assertEquals(new TreeSet<>(Layers.TYPES), new TreeSet<>(types), "every layer type is covered");

        Sequential m = new Sequential(5, layers, Backends.cpu(), 5);
        Path file = dir.resolve("all.safetensors");
        ModelFile.save(m, file);
        ModelDescription description = ModelFile.readDescription(file);
        assertEquals(ModelDescription.of(m), description);
        assertEquals(description, ModelDescription.fromJson(description.toJson()));
        Sequential loaded = ModelFile.load(file, Backends.cpu());
        for (int i = 0; i < layers.size(); i++) {
            assertEquals(m.layer(i).getClass(), loaded.layer(i).getClass());
            assertEquals(m.layer(i).config(), loaded.layer(i).config(), "layer " + i);
        }
        assertBitsEqual(m.parameters().toArray(), loaded.parameters().toArray());
    }

    @Test
    void partialLoadPutsAPretrainedBodyUnderANewHead() throws IOException {
        Sequential pretrained = Sequential.of(8, new Linear(8, 16), new ReLU(), new Linear(16, 10));
        pretrained.initialize(21);
        Path file = dir.resolve("body.safetensors");
        ModelFile.save(pretrained, file);

        Sequential transfer = new Sequential(8, List.of(new Linear(8, 16), new ReLU(), new Linear(16, 4)),
                Backends.cpu(), 22);
        float[] headBefore = transfer.namedParameters().get(2).tensor().toArray();
        LoadResult result = ModelFile.loadInto(transfer, file, LoadOptions.firstLayers(2));
        assertEquals(List.of("0.weight", "0.bias"), result.loaded());
        assertEquals(List.of("2.bias", "2.weight"), result.unused(), "the old head, in file order");
        assertArrayEquals(pretrained.namedParameters().get(0).tensor().toArray(),
                transfer.namedParameters().get(0).tensor().toArray());
        assertArrayEquals(pretrained.namedParameters().get(1).tensor().toArray(),
                transfer.namedParameters().get(1).tensor().toArray());
        assertArrayEquals(headBefore, transfer.namedParameters().get(2).tensor().toArray(), "new head untouched");
        transfer.freezeFirst(2);
        assertEquals(16 * 4 + 4, transfer.trainableParameterCount());
    }

    @Test
    void shapeMismatchNamesTheTensorAndBothShapesAndChangesNothing() throws IOException {
        Sequential pretrained = Sequential.of(128, new Linear(128, 64), new ReLU(), new Linear(64, 10));
        Path file = dir.resolve("ten.safetensors");
        ModelFile.save(pretrained, file);
        Sequential other = new Sequential(128, List.of(new Linear(128, 64), new ReLU(), new Linear(64, 5)),
                Backends.cpu(), 9);
        float[] before = other.parameters().toArray();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelFile.loadInto(other, file));
        assertTrue(e.getMessage().contains("tensor '2.weight': file has [10, 64], model has [5, 64]"), e.getMessage());
        assertTrue(e.getMessage().contains("tensor '2.bias': file has [10], model has [5]"), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertArrayEquals(before, other.parameters().toArray(), "a failed load writes nothing");
        // a partial load that reaches the mismatching layer fails too
        assertThrows(IllegalArgumentException.class, () -> ModelFile.loadInto(other, file, LoadOptions.firstLayers(3)));
        assertThrows(IllegalArgumentException.class, () -> ModelFile.loadInto(other, file, LoadOptions.firstLayers(4)));
    }

    @Test
    void missingAndUnexpectedTensorsAreListed() throws IOException {
        Sequential withNorm = Sequential.of(4, new Linear(4, 3), new BatchNorm1d(3), new Linear(3, 2));
        Sequential withoutNorm = Sequential.of(4, new Linear(4, 3), new ReLU(), new Linear(3, 2));
        Path normFile = dir.resolve("norm.safetensors");
        Path plainFile = dir.resolve("plain.safetensors");
        ModelFile.save(withNorm, normFile);
        ModelFile.save(withoutNorm, plainFile);

        IllegalArgumentException unexpected = assertThrows(IllegalArgumentException.class,
                () -> ModelFile.loadInto(withoutNorm, normFile));
        assertTrue(unexpected.getMessage().contains("unexpected in the file: [1.num_batches_tracked, 1.bias, "
                + "1.running_mean, 1.running_var, 1.weight]"), unexpected.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> ModelFile.loadInto(withNorm, plainFile));
        // num_batches_tracked is not missing: PyTorch's BatchNorm takes 0 for it, and so do we
        assertTrue(missing.getMessage().contains("missing in the file: [1.weight, 1.bias, 1.running_mean, "
                + "1.running_var]"), missing.getMessage());

        LoadResult lenient = ModelFile.loadInto(withNorm, plainFile, LoadOptions.STRICT.lenient());
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), lenient.loaded());
        assertEquals(4, lenient.missing().size());
        // the body before the differing layer loads strictly
        assertEquals(List.of("0.weight", "0.bias"),
                ModelFile.loadInto(withNorm, plainFile, LoadOptions.firstLayers(1)).loaded());
        assertThrows(IllegalArgumentException.class, () -> ModelFile.loadInto(withNorm, plainFile,
                LoadOptions.firstLayers(2)));
        assertThrows(IllegalArgumentException.class, () -> ModelFile.loadInto(withNorm, plainFile,
                LoadOptions.firstLayers(9)));
    }

    @Test
    void aSubmodulesStateDictIsRecognisedByItsPrefix() throws IOException {
        Sequential body = Sequential.of(3, new Linear(3, 4), new ReLU(), new Linear(4, 2));
        Path file = dir.resolve("prefixed.safetensors");
        SafeTensorsWriter w = new SafeTensorsWriter();
        for (var t : body.namedParameters()) {
            w.putFloats("body." + t.name(), t.tensor()); // nn.Module with self.body = nn.Sequential(...)
        }
        w.write(file);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelFile.loadInto(Sequential.of(3, new Linear(3, 4), new ReLU(), new Linear(4, 2)), file,
                        LoadOptions.firstLayers(3)));
        assertTrue(e.getMessage().endsWith("missing in the file: [0.weight, 0.bias, 2.weight, 2.bias]; the file holds "
                + "body.0.bias, body.0.weight, body.2.bias, body.2.weight (the model's names under the prefix 'body.': "
                + "save that submodule's own state_dict, or strip the prefix from the names)"), e.getMessage());
    }

    @Test
    void aBatchNormStateWithoutNumBatchesTrackedLoadsWithZeroAsInPyTorch() throws IOException {
        Sequential saved = Sequential.of(3, new Linear(3, 2), new BatchNorm1d(2));
        Path file = dir.resolve("no-nbt.safetensors");
        SafeTensorsWriter w = new SafeTensorsWriter();
        for (var t : saved.namedParameters()) {
            w.putFloats(t.name(), t.tensor());
        }
        for (var t : saved.namedBuffers()) {
            w.putFloats(t.name(), t.tensor());
        }
        w.write(file);
        Sequential loaded = Sequential.of(3, new Linear(3, 2), new BatchNorm1d(2));
        ((BatchNorm1d) loaded.layers().get(1)).setNumBatchesTracked(9);
        LoadResult r = ModelFile.loadInto(loaded, file);
        assertTrue(r.missing().isEmpty(), r.toString());
        assertEquals(0, ((BatchNorm1d) loaded.layers().get(1)).numBatchesTracked());
        assertArrayEquals(saved.parameters().toArray(), loaded.parameters().toArray());
    }

    @Test
    void dtypeMismatchIsAnError() throws IOException {
        Path file = dir.resolve("dtype.safetensors");
        new SafeTensorsWriter().putLongs("0.weight", new long[] {1, 2}, 1, 2).putFloats("0.bias", new float[] {1}, 1)
                .write(file);
        Sequential m = Sequential.of(2, new Linear(2, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelFile.loadInto(m, file));
        assertTrue(e.getMessage().contains("tensor '0.weight': file has dtype I64"), e.getMessage());
    }

    @Test
    void aFileWithoutDescriptionOrWithABadOneIsRefusedByLoad() throws IOException {
        Path weightsOnly = dir.resolve("torch.safetensors");
        new SafeTensorsWriter().putFloats("0.weight", new float[] {1, 2}, 1, 2).putMetadata("format", "pt")
                .write(weightsOnly);
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(weightsOnly));
        assertTrue(e.getMessage().contains("no model description") && e.getMessage().contains("loadInto"),
                e.getMessage());

        Path newer = dir.resolve("newer.safetensors");
        new SafeTensorsWriter().putMetadata(ModelFile.MODEL_KEY, "{}").putMetadata(ModelFile.VERSION_KEY, "2")
                .write(newer);
        assertTrue(assertThrows(SafeTensorsException.class, () -> ModelFile.load(newer)).getMessage()
                .contains("format version 2"));
        // as init_from (loadInto) too: a newer layout may mean something else
        Path newerWeights = dir.resolve("newer-weights.safetensors");
        new SafeTensorsWriter().putFloats("0.weight", new float[] {1, 2}, 1, 2).putFloats("0.bias", new float[] {1}, 1)
                .putMetadata(ModelFile.VERSION_KEY, "2").write(newerWeights);
        assertTrue(assertThrows(SafeTensorsException.class,
                () -> ModelFile.loadInto(Sequential.of(2, new Linear(2, 1)), newerWeights)).getMessage()
                .contains("format version 2"));

        Path unknownLayer = dir.resolve("unknown.safetensors");
        new SafeTensorsWriter().putMetadata(ModelFile.VERSION_KEY, "1").putMetadata(ModelFile.MODEL_KEY,
                "{\"input_features\":2,\"layers\":[{\"type\":\"conv9d\",\"config\":{}}]}").write(unknownLayer);
        e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(unknownLayer));
        assertTrue(e.getMessage().contains("layer 0: unknown layer type 'conv9d'"), e.getMessage());

        Path lying = dir.resolve("lying.safetensors");
        new SafeTensorsWriter().putFloats("0.weight", new float[] {1, 2}, 2, 1).putFloats("0.bias", new float[] {1}, 1)
                .putMetadata(ModelFile.VERSION_KEY, "1").putMetadata(ModelFile.MODEL_KEY,
                        ModelDescription.of(Sequential.of(2, new Linear(2, 1))).toJson()).write(lying);
        e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(lying));
        assertTrue(e.getMessage().contains("tensor '0.weight': file has [2, 1], model has [1, 2]"), e.getMessage());
    }

    @Test
    void descriptionJsonIsValidated() {
        assertThrows(IllegalArgumentException.class, () -> ModelDescription.fromJson("[1]"));
        assertThrows(IllegalArgumentException.class, () -> ModelDescription.fromJson("{\"layers\":[]}"));
        assertThrows(IllegalArgumentException.class,
                () -> ModelDescription.fromJson("{\"input_features\":2,\"layers\":[]}"));
        assertThrows(IllegalArgumentException.class,
                () -> ModelDescription.fromJson("{\"input_features\":2,\"layers\":[{\"typ\":\"relu\"}]}"));
        assertThrows(IllegalArgumentException.class,
                () -> ModelDescription.fromJson("{\"input_features\":2,\"layers\":[{\"type\":\"relu\"}],\"x\":1}"));
        assertEquals(new ModelDescription(2, List.of(new ModelDescription.LayerDescription("relu", Map.of()))),
                ModelDescription.fromJson("{\"input_features\":2,\"layers\":[{\"type\":\"relu\"}]}"));
    }

    @Test
    void savingReplacesTheFileAndLeavesNoTemporaryFiles() throws IOException {
        Path file = dir.resolve("m.safetensors");
        ModelFile.save(trainedModel(1), file);
        Sequential second = trainedModel(2);
        ModelFile.save(second, file);
        assertBitsEqual(second.parameters().toArray(), ModelFile.load(file).parameters().toArray());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
        assertNotEquals(0, Files.size(file));
    }

    static void assertBitsEqual(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, "length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                    "element " + i + ": " + expected[i] + " vs " + actual[i]);
        }
    }

    @Test
    void theInputNormalisationAndClassNamesTravelWithTheModelBitForBit() throws IOException {
        Sequential m = trainedModel(5);
        double[] shift = new SplittableRandom(1).doubles(6, -1e9, 1e9).toArray();
        double[] scale = {0.1, 1.0 / 3, 0, 7.25, 1e-300, 1.0 / 6_543_210.987654321};
        Preprocessing p = new Preprocessing(InputFormat.csv(List.of("a", "b", "c,d", "ä", "e", "f")),
                io.parallax.engine.data.Normalization.of(io.parallax.engine.data.Normalization.Kind.STANDARDIZE,
                        shift, scale), List.of("cat", "non-cat", "\"quoted\"", "ünïcode"));
        Path file = dir.resolve("m.safetensors");
        ModelFile.save(m, file, p);
        Preprocessing back = ModelFile.readPreprocessing(file).orElseThrow();
        assertArrayEquals(shift, back.normalization().shift());
        assertArrayEquals(scale, back.normalization().scale());
        assertEquals(io.parallax.engine.data.Normalization.Kind.STANDARDIZE, back.normalization().kind());
        assertEquals(p.classNames(), back.classNames());
        assertEquals(p.input(), back.input());
        // the model itself loads as before
        assertEquals(m.parameterCount(), ModelFile.load(file).parameterCount());

        ModelFile.save(m, file);
        assertTrue(ModelFile.readPreprocessing(file).isEmpty());
        Preprocessing wrongWidth = new Preprocessing(null, io.parallax.engine.data.Normalization.of(
                io.parallax.engine.data.Normalization.Kind.MIN_MAX, new double[3], new double[3]), List.of());
        assertThrows(IllegalArgumentException.class, () -> ModelFile.save(m, file, wrongWidth));
        Preprocessing wrongInput = new Preprocessing(InputFormat.idx(List.of(2, 2)), null, List.of());
        assertThrows(IllegalArgumentException.class, () -> ModelFile.save(m, file, wrongInput));
    }

    @Test
    void pixelInputsSayTheyWereDividedBy255() throws IOException {
        Sequential m = trainedModel(5);
        Path file = dir.resolve("pixels.safetensors");
        ModelFile.save(m, file, new Preprocessing(InputFormat.imageFolder(1, 2, 3), null, List.of()));
        InputFormat back = ModelFile.readPreprocessing(file).orElseThrow().input();
        assertEquals(InputFormat.Kind.IMAGE_FOLDER, back.kind());
        assertEquals(List.of(1, 2, 3), back.shape());
        assertEquals(255, back.divideBy());
        assertEquals("{\"kind\":\"image_folder\",\"features\":6,\"divide_by\":255,\"shape\":[1,2,3]}",
                InputFormat.imageFolder(1, 2, 3).toJson());
        assertEquals(1, InputFormat.fromJson(InputFormat.csv(List.of("x")).toJson()).divideBy());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> InputFormat.fromJson("{\"kind\":\"idx\",\"features\":5,\"shape\":[2,2]}"));
        assertTrue(e.getMessage().contains("'features' is 5 but its shape gives 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> InputFormat.fromJson("{\"kind\":\"idx\",\"shape\":[65536,65536]}"));
        assertTrue(e.getMessage().contains("more than 2^31 features"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> InputFormat.fromJson("{\"kind\":\"idx\",\"divide_by\":7,\"shape\":[2,2]}"));
        assertTrue(e.getMessage().contains("'divide_by' is 7"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> InputFormat.fromJson("{\"kind\":\"wav\"}"));
        assertTrue(e.getMessage().contains("unknown kind 'wav'"), e.getMessage());
    }
}
