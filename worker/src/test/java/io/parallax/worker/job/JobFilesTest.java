package io.parallax.worker.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.proto.v1.JobSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class JobFilesTest {

    /** The repository's examples folder (tests run in the module folder). */
    static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();

    @ParameterizedTest
    @ValueSource(strings = {"fashion-mnist.json", "digits.json", "breast-cancer.json"})
    void examplesParseValidateAndRoundTrip(String name) throws IOException {
        JobSpec spec = JobFiles.read(EXAMPLES.resolve(name));
        assertEquals(name.replace(".json", ""), spec.getName());
        DataRoots roots = DataRoots.of(EXAMPLES, Path.of("/usr/share/datasets"));
        assertEquals(List.of(), JobValidator.validate(spec, roots));
        assertEquals(spec, JobFiles.parse(JobFiles.toJson(spec)));
    }

    @Test
    void fashionMnistIsTheDocumentedModel() throws IOException {
        JobSpec spec = JobFiles.read(EXAMPLES.resolve("fashion-mnist.json"));
        assertEquals(784, spec.getModel().getInputFeatures());
        assertEquals(List.of(256, 128, 10), spec.getModel().getLayersList().stream()
                .filter(l -> l.hasLinear()).map(l -> l.getLinear().getOutFeatures()).toList());
        assertEquals("adam", spec.getOptimizer().getName());
        assertEquals(1e-3, spec.getOptimizer().getLr());
        assertEquals(128, spec.getBatchSize());
        assertEquals(3, spec.getEpochs());
    }

    @Test
    void relativePathsAreRelativeToTheJobFilesFolder() throws IOException {
        JobSpec spec = JobFiles.read(EXAMPLES.resolve("digits.json"));
        assertEquals(EXAMPLES.resolve("data/digits.csv.gz").toString(), spec.getData().getTrain().getCsv().getPath());
        // absolute paths stay as they are
        JobSpec fashion = JobFiles.read(EXAMPLES.resolve("fashion-mnist.json"));
        assertEquals("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
                fashion.getData().getTrain().getIdx().getImages());
    }

    @Test
    void aFileStartingWithAByteOrderMarkReads(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path file = dir.resolve("bom.json");
        java.nio.file.Files.writeString(file, "\uFEFF" + java.nio.file.Files.readString(EXAMPLES.resolve("digits.json")));
        assertEquals("digits", JobFiles.read(file).getName());
    }

    @Test
    void twoAlternativesOfOneChoiceAreNamedInTheJobsWords() {
        InvalidJobException e = assertThrows(InvalidJobException.class,
                () -> JobFiles.parse("{\"clipping\": {\"max_norm\": 1, \"clip_value\": 1}}"));
        assertEquals("not a valid job file: 'max_norm' and 'clip_value' are alternatives (ClippingSpec): give one "
                + "of them", e.errors().get(0).message());
    }

    @Test
    void anUnknownFieldIsNamedByItsPath() {
        InvalidJobException e = assertThrows(InvalidJobException.class,
                () -> JobFiles.parse("{\"optimizer\": {\"name\": \"adam\", \"lrr\": 0.1}}"));
        assertEquals("optimizer.lrr", e.errors().get(0).field());
        assertTrue(e.errors().get(0).message().startsWith("no such field in OptimizerSpec; its fields: name, lr,"),
                e.getMessage());
    }

    @Test
    void everyUnknownFieldAndWrongValueIsNamedAtOnce() {
        InvalidJobException e = assertThrows(InvalidJobException.class, () -> JobFiles.parse("""
                {"learning_rate": 0.1, "epochs": 2.5, "batchSize": "many",
                 "model": {"layers": [{"linear": {"out_features": 8}}, {"linear": {"units": 4}}],
                           "frozen_layers": 1},
                 "shuffle": true}
                """));
        assertEquals(List.of(
                new FieldError("learning_rate", "no such field in JobSpec; its fields: " + fieldsOf("JobSpec")),
                new FieldError("epochs", "must be a whole number, got 2.5"),
                new FieldError("batchSize", "must be a whole number, got \"many\""),
                new FieldError("model.layers[1].linear.units", "no such field in LinearLayer; its fields: "
                        + fieldsOf("LinearLayer")),
                new FieldError("model.frozen_layers", "must be a list ([…]), got 1"),
                new FieldError("shuffle", "no such field in JobSpec; its fields: " + fieldsOf("JobSpec"))),
                e.errors());
        // a number too large for its field, and a value where an object belongs
        e = assertThrows(InvalidJobException.class, () -> JobFiles.parse(
                "{\"epochs\": 3000000000, \"optimizer\": \"adam\"}"));
        assertEquals(List.of(new FieldError("epochs", "must be a whole number from -2147483648 to 2147483647, got "
                + "3000000000"), new FieldError("optimizer", "must be an object ({…}) of OptimizerSpec's fields, got "
                + "\"adam\"")), e.errors());
    }

    private static String fieldsOf(String message) {
        return String.join(", ", io.parallax.proto.v1.JobSpec.getDescriptor().getFile().findMessageTypeByName(message)
                .getFields().stream().map(com.google.protobuf.Descriptors.FieldDescriptor::getName).toList());
    }

    @Test
    void malformedJsonAndWrongTypesAreRejected() {
        InvalidJobException e = assertThrows(InvalidJobException.class, () -> JobFiles.parse("{\"epochs\": 3,"));
        assertTrue(e.getMessage().startsWith("invalid job: not a valid job file"), e.getMessage());
        e = assertThrows(InvalidJobException.class, () -> JobFiles.parse("{\"epochs\": \"three\"}"));
        assertTrue(e.getMessage().contains("three"), e.getMessage());
        e = assertThrows(InvalidJobException.class,
                () -> JobFiles.parse("{\"clipping\": {\"max_norm\": 1, \"clip_value\": 2}}"));
        assertTrue(e.getMessage().contains("clip_value") || e.getMessage().contains("oneof"), e.getMessage());
    }

    /** The slips a person makes in a JSON file, each said where it is and what to change, without Gson's words. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        // a trailing comma after the last field
        "{\\n  \"epochs\": 3,\\n  \"seed\": 1,\\n}\\n"
                + "| a ',' with nothing after it at line 3, column 12, before the '}': remove it",
        // a comma missing at the end of a line
        "{\\n  \"epochs\": 3\\n  \"seed\": 1\\n}\\n"
                + "| a ',' is missing after line 2, column 13 (before line 3, column 3)",
        // a trailing comma in a list
        "{\"model\": {\"layers\": [{\"linear\": {\"out_features\": 4}},]}}"
                + "| a ',' with nothing after it at line 1, column 54, before the ']': remove it",
        // a closing brace missing at the end
        "{\\n  \"model\": {\"layers\": []\\n}\\n"
                + "| the file ends inside the { … } object opened at line 1, column 1: a '}' is missing",
    })
    void aSyntaxSlipIsSaidWhereItIsInPlainWords(String json, String expected) {
        InvalidJobException e = assertThrows(InvalidJobException.class, () -> JobFiles.parse(json.replace("\\n", "\n")));
        assertEquals("invalid job: not a valid job file: " + expected, e.getMessage());
    }

    @Test
    void aFieldInBothItsSpellingsIsNamed() {
        InvalidJobException e = assertThrows(InvalidJobException.class,
                () -> JobFiles.parse("{\"batch_size\": 8, \"batchSize\": 16}"));
        assertEquals("invalid job: not a valid job file: 'batch_size' is given twice in JobSpec (as batch_size and in "
                + "lowerCamelCase, both the same field): keep one", e.getMessage());
    }

    @Test
    void aFileErrorNamesTheFile(@TempDir Path tmp) throws IOException {
        Path file = Files.writeString(tmp.resolve("bad.json"), "{\"epocs\": 3}");
        InvalidJobException e = assertThrows(InvalidJobException.class, () -> JobFiles.read(file));
        assertEquals(file + ": epocs", e.errors().get(0).field(), e.getMessage());
        Path bad = Files.writeString(tmp.resolve("broken.json"), "{\"epochs\": 3,");
        e = assertThrows(InvalidJobException.class, () -> JobFiles.read(bad));
        assertTrue(e.getMessage().startsWith("invalid job: " + bad + ": not a valid job file"), e.getMessage());
    }

    @Test
    void aKeyGivenTwiceIsRejectedWithItsPath() {
        InvalidJobException e = assertThrows(InvalidJobException.class,
                () -> JobFiles.parse("{\"epochs\": 1, \"batch_size\": 8, \"epochs\": 5}"));
        assertTrue(e.getMessage().contains("'epochs' is given twice"), e.getMessage());
        e = assertThrows(InvalidJobException.class, () -> JobFiles.parse(
                "{\"model\": {\"layers\": [{\"linear\": {\"out_features\": 4}},"
                        + " {\"linear\": {\"out_features\": 2, \"out_features\": 3}}]}}"));
        assertTrue(e.getMessage().contains("'model.layers[1].linear.out_features' is given twice"), e.getMessage());
        // the same key in different objects is no repetition
        assertEquals(2, JobFiles.parse("{\"model\": {\"layers\": [{\"linear\": {\"out_features\": 4}},"
                + " {\"linear\": {\"out_features\": 2}}]}}").getModel().getLayersCount());
    }

    @Test
    void oneIntegerMapKeyWrittenTwoWaysIsAKeyGivenTwice() {
        // protobuf reads "0", "00" and "+0" as the same lr_scales key: the last would silently win
        for (String twin : new String[] {"00", "+0", "-0"}) {
            InvalidJobException e = assertThrows(InvalidJobException.class, () -> JobFiles.parse(
                    "{\"model\": {\"lr_scales\": {\"0\": 0.1, \"" + twin + "\": 0.5}}}"));
            assertTrue(e.getMessage().contains("'model.lr_scales." + twin + "' is given twice"), e.getMessage());
        }
        assertEquals(2, JobFiles.parse("{\"model\": {\"lr_scales\": {\"0\": 0.1, \"2\": 0.5}}}")
                .getModel().getLrScalesCount());
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"epochs\": 1} {\"batch_size\": 0}", "{\"epochs\": 1} garbage", "{\"epochs\": 1}}"})
    void textAfterTheJobIsRejected(String json) {
        InvalidJobException e = assertThrows(InvalidJobException.class, () -> JobFiles.parse(json));
        assertTrue(e.getMessage().contains("text after the job's closing brace (line 1, column 14)"), e.getMessage());
        assertEquals(1, JobFiles.parse("{\"epochs\": 1}\n\n  ").getEpochs());
    }

    @Test
    void theParsersMessageDoesNotNameJavaClasses() {
        InvalidJobException e = assertThrows(InvalidJobException.class, () -> JobFiles.parse("{\"name\": \"x\", \"model\": "));
        assertTrue(e.getMessage().contains("the file ends inside the { … } object opened at line 1, column 1"),
                e.getMessage());
        assertTrue(!e.getMessage().contains("java.") && !e.getMessage().contains("Exception"), e.getMessage());
    }

    @Test
    void aFileThatIsNoJobFileIsNamedAndSaysWhatItIs(@TempDir Path tmp) throws IOException {
        Path binary = Files.write(tmp.resolve("data.csv.gz"), new byte[] {0x1f, (byte) 0x8b, 8, 0, (byte) 0xe9, 0});
        InvalidJobException e = assertThrows(InvalidJobException.class, () -> JobFiles.read(binary));
        assertTrue(e.getMessage().contains(binary + ": not UTF-8 text"), e.getMessage());
        Path folder = Files.createDirectory(tmp.resolve("job.json"));
        e = assertThrows(InvalidJobException.class, () -> JobFiles.read(folder));
        assertTrue(e.getMessage().contains(folder + ": a folder, not a job file"), e.getMessage());
        Path huge = Files.write(tmp.resolve("huge.json"), new byte[JobFiles.MAX_BYTES + 1]);
        e = assertThrows(InvalidJobException.class, () -> JobFiles.read(huge));
        assertTrue(e.getMessage().contains(huge + ": longer than 16 MiB"), e.getMessage());
    }

    @Test
    void lenientSyntaxCannotHideARepeatedKey() {
        // comments are fine, and do not hide the repetition
        InvalidJobException e = assertThrows(InvalidJobException.class,
                () -> JobFiles.parse("# a job\n{\"epochs\": 1, // one\n \"epochs\": 50}"));
        assertTrue(e.getMessage().contains("'epochs' is given twice"), e.getMessage());
        assertEquals(3, JobFiles.parse("# a job\n{/* three */ \"epochs\": 3}").getEpochs());
        // what is no JSON at all, though Gson's lenient reader takes it, is refused
        e = assertThrows(InvalidJobException.class,
                () -> JobFiles.parse("{\"name\" = \"x\", \"epochs\": 1, \"epochs\": 50}"));
        assertTrue(e.getMessage().contains("not JSON at line 1, column"), e.getMessage());
    }
}
