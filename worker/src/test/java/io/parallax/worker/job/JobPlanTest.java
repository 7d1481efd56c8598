package io.parallax.worker.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.parallax.engine.backend.Backends;
import io.parallax.engine.data.Dataset;
import io.parallax.engine.data.InputFormat;
import io.parallax.engine.io.ModelFile;
import io.parallax.engine.loss.Loss;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.optim.ParameterGroups;
import io.parallax.engine.schedule.LearningRateSchedule;
import io.parallax.engine.train.EpochResult;
import io.parallax.engine.train.Trainer;
import io.parallax.proto.v1.CsvSource;
import io.parallax.proto.v1.DataSource;
import io.parallax.proto.v1.ImageFolderSource;
import io.parallax.proto.v1.JobSpec;
import io.parallax.proto.v1.ScheduleSpec;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobPlanTest {

    @TempDir
    Path root;

    private DataRoots roots() {
        return DataRoots.of(root);
    }

    /** 30 rows of 4 features, three classes a, b, c, in column "y". */
    private Path csv(String name) throws IOException {
        StringBuilder sb = new StringBuilder("f0,f1,y,f2,f3\n");
        for (int r = 0; r < 30; r++) {
            sb.append(r).append(',').append(r % 7).append(',').append("abc".charAt(r % 3)).append(',')
                    .append(r * 0.5).append(',').append(-r).append('\n');
        }
        return Files.writeString(root.resolve(name), sb.toString());
    }

    /** The validator's base job (? → 16 → ReLU → dropout → 3, Adam) reading {@code train.csv} under the root. */
    private JobSpec.Builder job() throws IOException {
        csv("train.csv");
        JobSpec.Builder b = JobValidatorTest.valid();
        b.getDataBuilder().setTrain(JobValidatorTest.csv("train.csv", "y")).setValidationSplit(0.2)
                .setNormalization("standardize");
        return b;
    }

    private InvalidJobException rejected(JobSpec.Builder b) {
        return assertThrows(InvalidJobException.class, () -> JobPlan.load(b.build(), roots()));
    }

    private static void assertNames(InvalidJobException e, String field, String fragment) {
        assertTrue(e.errors().stream().anyMatch(err -> err.field().equals(field) && err.message().contains(fragment)),
                "expected '" + field + ": …" + fragment + "…', got:\n" + e.getMessage());
    }

    @Test
    void aValidPlanReadsSplitsAndNormalisesTheData() throws IOException {
        JobPlan plan = JobPlan.load(job().build(), roots());
        assertEquals(4, plan.inputFeatures());
        assertEquals(List.of("a", "b", "c"), plan.classNames());
        assertEquals(24, plan.train().rows());
        assertEquals(6, plan.validation().orElseThrow().rows());
        assertEquals(3, plan.stepsPerEpoch()); // ⌈24 / 8⌉
        double mean = 0;
        for (int r = 0; r < 24; r++) {
            mean += plan.train().features()[r * 4];
        }
        assertEquals(0, mean / 24, 1e-5, "standardised with the training rows' statistics");
    }

    @Test
    void theSameSeedBuildsTheSameWeightsTwiceAndAnotherSeedDoesNot() throws IOException {
        JobPlan plan = JobPlan.load(job().build(), roots());
        float[] a = plan.buildModel(Backends.cpu()).parameters().toArray();
        float[] b = plan.buildModel(Backends.cpu()).parameters().toArray();
        assertEquals(4 * 16 + 16 + 16 * 3 + 3, a.length);
        assertArrayEquals(a, b);
        JobPlan again = JobPlan.load(job().build(), roots());
        assertArrayEquals(a, again.buildModel(Backends.cpu()).parameters().toArray());
        JobPlan other = JobPlan.load(job().setSeed(99).build(), roots());
        assertFalse(java.util.Arrays.equals(a, other.buildModel(Backends.cpu()).parameters().toArray()));
    }

    @Test
    void aMissingFileIsRejectedBeforeTraining() throws IOException {
        JobSpec.Builder b = job();
        b.getDataBuilder().setTrain(JobValidatorTest.csv("nowhere.csv", "y"));
        assertNames(rejected(b), "data.train.csv.path", "no such file: " + root.toRealPath().resolve("nowhere.csv")
                + " (a relative path is looked up under " + root.toRealPath() + ")");
        b.getDataBuilder().setTrain(JobValidatorTest.csv(root.resolve("nowhere.csv").toString(), "y"));
        assertNames(rejected(b), "data.train.csv.path", "no such file: " + root.resolve("nowhere.csv"));
    }

    @Test
    void everyMissingFileIsNamedAtOnce() throws IOException {
        JobSpec.Builder b = job();
        b.getDataBuilder().setTrain(JobValidatorTest.csv("moved.csv", "y")).clearValidationSplit()
                .setValidation(DataSource.newBuilder().setIdx(io.parallax.proto.v1.IdxSource.newBuilder()
                        .setImages("val-images.gz").setLabels("val-labels.gz")));
        InvalidJobException e = rejected(b);
        assertEquals(List.of("data.train.csv.path", "data.validation.idx.images", "data.validation.idx.labels"),
                e.errors().stream().map(FieldError::field).toList(), e.getMessage());
        assertNames(e, "data.validation.idx.labels", "no such file: " + root.toRealPath().resolve("val-labels.gz"));
    }

    @Test
    void rootsThatOnlyOrderTheLookUpAllowAnyPath() throws IOException {
        Path elsewhere = Files.createTempDirectory("parallax-elsewhere");
        try {
            JobSpec.Builder b = job();
            Files.move(root.resolve("train.csv"), elsewhere.resolve("mine.csv"));
            b.getDataBuilder().setTrain(JobValidatorTest.csv(elsewhere.resolve("mine.csv").toString(), "y"));
            assertNames(rejected(b), "data.train.csv.path", "outside the data roots");
            JobPlan plan = JobPlan.load(b.build(), DataRoots.anywhere(List.of(root)));
            assertTrue(plan.train().rows() > 0);
        } finally {
            try (var files = Files.list(elsewhere)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(elsewhere);
        }
    }

    @Test
    void csvColumnsNamedInIgnoreColumnsAreLeftOutAndTheSummaryNamesTheFeatures() throws IOException {
        JobSpec.Builder b = job();
        b.getDataBuilder().getTrainBuilder().getCsvBuilder().addIgnoreColumns("f1");
        JobPlan plan = JobPlan.load(b.build(), roots());
        assertEquals(3, plan.inputFeatures());
        assertEquals(List.of("f0", "f2", "f3"), plan.preprocessing().input().columns());
        assertEquals("data: train.csv — 24 training rows, 6 validation rows, 3 features (f0, f2, f3), 3 classes",
                plan.dataSummary());

        b.getDataBuilder().getTrainBuilder().getCsvBuilder().clearIgnoreColumns().addIgnoreColumns("F1");
        assertNames(rejected(b), "data.train.csv.ignore_columns[0]", "'F1' is not a column of");
        b.getDataBuilder().getTrainBuilder().getCsvBuilder().clearIgnoreColumns().addIgnoreColumns("y");
        assertNames(rejected(b), "data.train.csv.ignore_columns[0]", "'y' is the label column; it cannot be ignored too");
        b.getDataBuilder().getTrainBuilder().getCsvBuilder().clearIgnoreColumns().addIgnoreColumns("f1")
                .addIgnoreColumns("f1");
        assertNames(rejected(b), "data.train.csv.ignore_columns[1]", "'f1' is named twice");
        // a validation file that keeps the column the training file leaves out
        b.getDataBuilder().getTrainBuilder().getCsvBuilder().clearIgnoreColumns().addIgnoreColumns("f1");
        b.getDataBuilder().clearValidationSplit().setValidation(JobValidatorTest.csv("train.csv", "y"));
        assertNames(rejected(b), "data.validation", "not in training [f1]; the training features are [f0, f2, f3] "
                + "(a column that is no feature is left out with ignore_columns)");
    }

    @Test
    void aMissingLabelColumnIsRejectedWithTheColumns() throws IOException {
        JobSpec.Builder b = job();
        b.getDataBuilder().setTrain(JobValidatorTest.csv("train.csv", "label"));
        InvalidJobException e = rejected(b);
        assertNames(e, "data.train.csv.label_column", "'label' is not a column");
        assertNames(e, "data.train.csv.label_column", "[f0, f1, y, f2, f3]");
    }

    @Test
    void aFirstLayerThatDoesNotMatchTheDataNamesBothWidths() throws IOException {
        JobSpec.Builder b = job();
        b.getModelBuilder().getLayersBuilder(0).getLinearBuilder().setInFeatures(784);
        assertNames(rejected(b), "model.layers[0].linear.in_features", "784 does not match the width 4");
        JobSpec.Builder c = job();
        c.getModelBuilder().setInputFeatures(10);
        assertNames(rejected(c), "model.input_features", "10 does not match the data: data.train.csv has 4 features");
    }

    @Test
    void tooFewOutputsForTheClassesAreRejected() throws IOException {
        JobSpec.Builder b = job();
        b.getModelBuilder().getLayersBuilder(3).getLinearBuilder().setOutFeatures(2);
        assertNames(rejected(b), "model.layers[3].linear.out_features", "2 outputs but data.train.csv has 3 classes");
        JobSpec.Builder c = job().setLoss("bce_with_logits");
        c.getModelBuilder().getLayersBuilder(3).getLinearBuilder().setOutFeatures(1);
        assertNames(rejected(c), "model.layers[3].linear.out_features", "one output for two classes");
    }

    @Test
    void aValidationClassUnknownToTrainingIsRejected() throws IOException {
        Files.writeString(root.resolve("val.csv"), "f0,f1,y,f2,f3\n1,2,a,3,4\n1,2,z,3,4\n");
        JobSpec.Builder b = job();
        b.getDataBuilder().clearValidationSplit().setValidation(JobValidatorTest.csv("val.csv", "y"));
        assertNames(rejected(b), "data.validation", "class 'z' does not occur in the training data");
    }

    /** An IDX pair under the root: {@code n} 2×2 images, labels as given. */
    private DataSource idx(String name, int... labels) throws IOException {
        java.io.ByteArrayOutputStream images = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream out = new java.io.DataOutputStream(images);
        out.writeInt(0x0803);
        out.writeInt(labels.length);
        out.writeInt(2);
        out.writeInt(2);
        for (int i = 0; i < labels.length; i++) {
            out.write(new byte[] {(byte) i, (byte) (3 * i), 7, (byte) labels[i]});
        }
        java.io.ByteArrayOutputStream lbl = new java.io.ByteArrayOutputStream();
        out = new java.io.DataOutputStream(lbl);
        out.writeInt(0x0801);
        out.writeInt(labels.length);
        for (int l : labels) {
            out.write(l);
        }
        Files.write(root.resolve(name + "-images"), images.toByteArray());
        Files.write(root.resolve(name + "-labels"), lbl.toByteArray());
        return DataSource.newBuilder().setIdx(io.parallax.proto.v1.IdxSource.newBuilder()
                .setImages(root.resolve(name + "-images").toString())
                .setLabels(root.resolve(name + "-labels").toString())).build();
    }

    @Test
    void anIdxValidationLabelUnknownToTrainingIsTheOneNamed() throws IOException {
        JobSpec.Builder b = job();
        b.getDataBuilder().setTrain(idx("train", 0, 1, 2, 0, 1, 2)).clearValidationSplit()
                .setValidation(idx("val", 0, 5, 0)).setNormalization("none");
        b.getModelBuilder().getLayersBuilder(0).getLinearBuilder().setOutFeatures(4);
        assertNames(rejected(b), "data.validation", "class '5' does not occur in the training data");
        // a validation file without its own class 1 (IDX classes run 0..max) is fine
        b.getDataBuilder().setValidation(idx("val", 0, 2, 2));
        assertArrayEquals(new int[] {0, 2, 2}, JobPlan.load(b.build(), roots()).validation().orElseThrow().labels());
    }

    @Test
    void batchNormWithABatchOfOneRowIsRefusedWithABatchSizeThatWorks() throws IOException {
        JobSpec.Builder b = job();
        b.getModelBuilder().addLayers(1, io.parallax.proto.v1.LayerSpec.newBuilder()
                .setBatchNorm(io.parallax.proto.v1.BatchNormLayer.getDefaultInstance()));
        // 24 training rows (30 less the 20% held out)
        assertEquals(3, JobPlan.load(b.setBatchSize(8).build(), roots()).stepsPerEpoch());
        assertNames(rejected(b.setBatchSize(23)), "batch_size",
                "the last batch of each epoch holds 1 row (24 training rows = 1 × 23 + 1), which batch norm cannot "
                        + "train on; choose a batch size that leaves 0 or at least 2 rows over (e.g. 24)");
        assertNames(rejected(b.setBatchSize(1)), "batch_size", "the batches hold 1 row");
        // without batch norm both are fine
        b.getModelBuilder().removeLayers(1);
        JobPlan.load(b.setBatchSize(23).build(), roots());
    }

    @Test
    void trainingDataOfOneClassAreRefused() throws IOException {
        Files.writeString(root.resolve("one.csv"), "f0,f1,y,f2,f3\n1,2,a,3,4\n2,2,a,3,4\n3,2,a,3,4\n4,2,a,3,4\n");
        JobSpec.Builder b = job();
        b.getDataBuilder().setTrain(JobValidatorTest.csv("one.csv", "y"));
        assertNames(rejected(b), "data.train.csv", "the training data hold one class only ('a')");
        // IDX classes run 0..max: labels that are all 1 are one class too
        b.getDataBuilder().setTrain(idx("ones", 1, 1, 1, 1)).clearValidationSplit().setValidation(idx("v", 0, 1))
                .setNormalization("none");
        assertNames(rejected(b), "data.train.idx", "the training data hold one class only ('1')");
        // and a label file given as the images is no image file
        b.getDataBuilder().setTrain(DataSource.newBuilder().setIdx(io.parallax.proto.v1.IdxSource.newBuilder()
                .setImages(root.resolve("ones-labels").toString()).setLabels(root.resolve("ones-labels").toString())));
        assertNames(rejected(b), "data.train.idx.images", "is not an image file: rank 1");
    }

    @Test
    void validationLabelsFollowTheTrainingClassNames() throws IOException {
        // the validation file holds only classes b and c: its own numbering would make b 0
        Files.writeString(root.resolve("val.csv"), "f0,f1,y,f2,f3\n1,2,c,3,4\n1,2,b,3,4\n");
        JobSpec.Builder b = job();
        b.getDataBuilder().clearValidationSplit().setValidation(JobValidatorTest.csv("val.csv", "y"));
        Dataset v = JobPlan.load(b.build(), roots()).validation().orElseThrow();
        assertArrayEquals(new int[] {2, 1}, v.labels());
        assertEquals(3, v.classes());
    }

    @Test
    void validationCsvColumnsAreMatchedByName() throws IOException {
        Files.writeString(root.resolve("val.csv"), "f0,f1,y,f2,f3\n1,2,c,3,4\n5,6,b,7,8\n");
        Files.writeString(root.resolve("shuffled.csv"), "y,f3,f1,f2,f0\nc,4,2,3,1\nb,8,6,7,5\n");
        JobSpec.Builder b = job().setSeed(3);
        b.getDataBuilder().clearValidationSplit().setValidation(JobValidatorTest.csv("val.csv", "y"));
        Dataset inOrder = JobPlan.load(b.build(), roots()).validation().orElseThrow();
        b.getDataBuilder().setValidation(JobValidatorTest.csv("shuffled.csv", "y"));
        Dataset shuffled = JobPlan.load(b.build(), roots()).validation().orElseThrow();
        assertArrayEquals(inOrder.features(), shuffled.features());
        assertArrayEquals(inOrder.labels(), shuffled.labels());
        // other names are other features: refused, not fed by position
        Files.writeString(root.resolve("renamed.csv"), "g0,f1,y,f2,f3\n1,2,c,3,4\n5,6,b,7,8\n");
        b.getDataBuilder().setValidation(JobValidatorTest.csv("renamed.csv", "y"));
        assertNames(rejected(b), "data.validation", "its feature columns are not the training data's: missing [f0], "
                + "not in training [g0]; the training features are [f0, f1, f2, f3]");
    }

    @Test
    void csvFeaturesAreNormalisedFromTheirFloat64ValuesThroughSplitAndColumnOrder() throws IOException {
        // a timestamp column (7 s apart: one float32 value at 1.6e9) survives the validation split
        // and a validation file with its columns in another order
        StringBuilder train = new StringBuilder("t,y,x\n");
        StringBuilder val = new StringBuilder("x,t,y\n");
        for (int r = 0; r < 40; r++) {
            train.append(1_600_000_000L + 7L * r).append(',').append("ab".charAt(r % 2)).append(',').append(r % 5)
                    .append('\n');
            val.append(r % 5).append(',').append(1_600_000_000L + 7L * r).append(',').append("ab".charAt(r % 2))
                    .append('\n');
        }
        Files.writeString(root.resolve("times.csv"), train.toString());
        Files.writeString(root.resolve("times-val.csv"), val.toString());
        JobSpec.Builder b = JobValidatorTest.valid();
        b.getModelBuilder().getLayersBuilder(b.getModelBuilder().getLayersCount() - 1).getLinearBuilder()
                .setOutFeatures(2);
        b.getDataBuilder().setTrain(JobValidatorTest.csv("times.csv", "y")).setValidationSplit(0.25)
                .setNormalization("standardize");
        JobPlan split = JobPlan.load(b.build(), roots());
        assertTimesSpread(split.train());
        assertTimesSpread(split.validation().orElseThrow());
        b.getDataBuilder().clearValidationSplit().setValidation(JobValidatorTest.csv("times-val.csv", "y"));
        JobPlan separate = JobPlan.load(b.build(), roots());
        Dataset v = separate.validation().orElseThrow();
        assertTimesSpread(v);
        // the same rows as the training file's, so the same normalised values, in the training order
        assertArrayEquals(separate.train().features(), v.features());
    }

    /** The timestamp feature (column 0) takes as many values as there are rows, all within ±2 std. */
    private static void assertTimesSpread(Dataset d) {
        java.util.Set<Float> seen = new java.util.HashSet<>();
        for (int r = 0; r < d.rows(); r++) {
            float t = d.features()[r * d.width()];
            assertTrue(Math.abs(t) < 2, "standardised timestamp " + t);
            seen.add(t);
        }
        assertEquals(d.rows(), seen.size(), "distinct timestamps");
    }

    private void gray2x2(String path, int value) throws IOException {
        Path file = root.resolve(path);
        Files.createDirectories(file.getParent());
        BufferedImage image = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_GRAY);
        image.getRaster().setSample(0, 0, 0, value);
        ImageIO.write(image, "png", file.toFile());
    }

    private void png(String path, int w, int h) throws IOException {
        Path file = root.resolve(path);
        Files.createDirectories(file.getParent());
        ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), "png", file.toFile());
    }

    private JobSpec.Builder imageJob(int width, int height) throws IOException {
        JobSpec.Builder b = job();
        b.getDataBuilder().clearValidationSplit().setNormalization("").setTrain(DataSource.newBuilder()
                .setImageFolder(ImageFolderSource.newBuilder().setPath("images").setWidth(width).setHeight(height)));
        b.getModelBuilder().getLayersBuilder(3).getLinearBuilder().setOutFeatures(2);
        return b;
    }

    @Test
    void imagesOfMixedSizesAreRejectedNamingTwoFiles() throws IOException {
        assertNames(rejected(imageJob(0, 0)), "data.train.image_folder.path", "no such folder: "
                + root.toRealPath().resolve("images") + " (a relative path is looked up under " + root.toRealPath() + ")");
        png("images/cat/a.png", 4, 4);
        png("images/non-cat/b.png", 5, 4);
        InvalidJobException e = rejected(imageJob(0, 0));
        assertNames(e, "data.train.image_folder.path", "images of different sizes");
        assertNames(e, "data.train.image_folder.path", "b.png is 5×4");
        // with a size they are resized; 3 channels × 2 × 3
        JobPlan plan = JobPlan.load(imageJob(3, 2).build(), roots());
        assertEquals(18, plan.inputFeatures());
        assertEquals(List.of("cat", "non-cat"), plan.classNames());
    }

    @Test
    void theModelFileLearnsHowEachSourceWasRead() throws IOException {
        // pixels were divided by 255, in the images' shape, channels first
        png("images/cat/a.png", 4, 4);
        png("images/non-cat/b.png", 4, 4);
        InputFormat images = JobPlan.load(imageJob(3, 2).build(), roots()).preprocessing().input();
        assertEquals(InputFormat.imageFolder(3, 2, 3), images);
        assertEquals(255, images.divideBy());
        // IDX images keep their rows × columns
        JobSpec.Builder b = job();
        b.getDataBuilder().setTrain(idx("train", 0, 1, 2, 0, 1, 2)).clearValidationSplit()
                .setValidation(idx("val", 0, 2, 2)).setNormalization("none");
        b.getModelBuilder().getLayersBuilder(0).getLinearBuilder().setOutFeatures(4);
        assertEquals(InputFormat.idx(List.of(2, 2)), JobPlan.load(b.build(), roots()).preprocessing().input());
        // IDX training rows with an image-folder validation set of the same pixels: 2×2 against 1×2×2
        gray2x2("valimages/0/a.png", 1);
        gray2x2("valimages/1/b.png", 2);
        gray2x2("valimages/2/c.png", 3);
        b.getDataBuilder().setValidation(DataSource.newBuilder().setImageFolder(
                ImageFolderSource.newBuilder().setPath("valimages").setGrayscale(true)));
        assertEquals(3, JobPlan.load(b.build(), roots()).validation().orElseThrow().rows());
        // CSV: the feature columns in file order, the label column left out
        Files.writeString(root.resolve("cols.csv"), "f0,f1,y,f2,f3\n1,2,a,3,4\n2,2,b,3,4\n3,2,a,3,4\n4,2,b,3,4\n"
                + "5,2,a,3,4\n");
        b = job();
        b.getDataBuilder().setTrain(JobValidatorTest.csv("cols.csv", "y"));
        assertEquals(InputFormat.csv(List.of("f0", "f1", "f2", "f3")),
                JobPlan.load(b.build(), roots()).preprocessing().input());
    }

    @Test
    void anImageLinkLeadingOutOfTheRootsIsRefused(@TempDir Path elsewhere) throws IOException {
        png("images/cat/a.png", 2, 2);
        png("images/non-cat/b.png", 2, 2);
        Path secret = elsewhere.resolve("secret.png");
        ImageIO.write(new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB), "png", secret.toFile());
        Files.createSymbolicLink(root.resolve("images/cat/link.png"), secret);
        InvalidJobException e = rejected(imageJob(0, 0));
        assertNames(e, "data.train.image_folder.path", "leads outside the data roots");
        // the folder to allow is the one the link leads to, not the link's own (inside the roots already)
        assertNames(e, "data.train.image_folder.path", "start them with --data-root " + elsewhere.toRealPath() + ",");
    }

    @Test
    void initFromLoadsTheFirstLayersAndFreezesWhatTheJobSays() throws IOException {
        JobPlan base = JobPlan.load(job().setSeed(5).build(), roots());
        Sequential pretrained = base.buildModel(Backends.cpu());
        Path weights = root.resolve("pretrained.safetensors");
        ModelFile.save(pretrained, weights);
        JobSpec.Builder b = job().setSeed(6);
        b.getModelBuilder().setInitFrom("pretrained.safetensors").setInitFromLayers(1).addFrozenLayers(0)
                .putLrScales(3, 0.1).setNoWeightDecayOnBiasAndNorm(true);
        JobPlan plan = JobPlan.load(b.build(), roots());
        Sequential model = plan.buildModel(Backends.cpu());
        float[] p = pretrained.parameters().toArray();
        float[] m = model.parameters().toArray();
        int body = 4 * 16 + 16;
        assertArrayEquals(java.util.Arrays.copyOf(p, body), java.util.Arrays.copyOf(m, body), "layer 0 loaded");
        assertFalse(java.util.Arrays.equals(java.util.Arrays.copyOfRange(p, body, p.length),
                java.util.Arrays.copyOfRange(m, body, m.length)), "the head keeps seed 6's initialisation");
        assertTrue(model.layer(0).isFrozen());
        Optimizer optimizer = plan.optimizer(model);
        List<ParameterGroups.Segment> segments = optimizer.groups().segments();
        assertEquals(List.of("0.weight", "0.bias", "3.weight", "3.bias"),
                segments.stream().map(ParameterGroups.Segment::name).toList());
        assertTrue(segments.get(0).frozen() && segments.get(1).frozen());
        assertEquals(0.1, segments.get(2).lrScale());
        assertTrue(segments.get(2).weightDecay());
        assertFalse(segments.get(3).weightDecay(), "no decay on the bias");
    }

    @Test
    void settingsThatAreValidButLikelyNotMeantAreNotedAtTheStart() throws IOException {
        assertEquals(List.of(), JobPlan.load(job().build(), roots()).startNotes());

        JobSpec.Builder wide = job();
        int last = wide.getModel().getLayersCount() - 1;
        wide.getModelBuilder().getLayersBuilder(last).getLinearBuilder().setOutFeatures(5);
        assertEquals(List.of("the model has 5 outputs for 3 classes: outputs 3 to 4 stand for no class in the data "
                + "(the model file it writes names only these 3 classes)"), JobPlan.load(wide.build(), roots()).startNotes());

        JobSpec.Builder warm = job().setEpochs(3);
        warm.getScheduleBuilder().setType("cosine").setWarmup(5);
        assertEquals(List.of("schedule.warmup is 5 epochs and the run has 3: the learning rate only warms up, and the "
                + "schedule after it never starts"), JobPlan.load(warm.build(), roots()).startNotes());

        JobSpec.Builder frozen = job();
        for (int i = 0; i <= last; i++) {
            if (frozen.getModel().getLayers(i).hasLinear()) {
                frozen.getModelBuilder().addFrozenLayers(i);
            }
        }
        assertEquals(List.of("every layer with weights is frozen (model.frozen_layers): training changes no weight",
                "frozen layers [0, 3]: 131 of the model's 131 parameters are frozen, 0 train",
                "model.frozen_layers: layer 0 is frozen at its initial values (no init_from loads it)",
                "model.frozen_layers: layer 3 is frozen at its initial values (no init_from loads it)"),
                JobPlan.load(frozen.build(), roots()).startNotes());

        JobPlan plan = JobPlan.load(job().build(), roots());
        int rows = plan.train().rows();
        assertEquals(List.of(String.format(java.util.Locale.ROOT, "batch_size %,d is more than the %,d training rows: each epoch is one step "
                + "over all of them", 65_536, rows)), JobPlan.load(job().setBatchSize(65_536).build(), roots()).startNotes());
        assertEquals(List.of("workers 16: a step of 4 rows gives rows to 4 of them at most; the others wait"),
                JobPlan.load(job().setBatchSize(4).setWorkers(16).build(), roots()).startNotes());
        assertEquals(List.of(), JobPlan.load(job().setBatchSize(4).setWorkers(4).build(), roots()).startNotes());
    }

    @Test
    void aFineTuneIsToldWhatItFreezesAndWhatItFreezesUnloadedOrScales() throws IOException {
        ModelFile.save(JobPlan.load(job().build(), roots()).buildModel(Backends.cpu()), root.resolve("body.safetensors"));
        JobSpec.Builder b = job();
        // init_from_layers is a count, frozen_layers are indices: layer 3 is the new head
        b.getModelBuilder().setInitFrom("body.safetensors").setInitFromLayers(1).addFrozenLayers(3).putLrScales(3, 0.5);
        assertEquals(List.of("frozen layers [3]: 51 of the model's 131 parameters are frozen, 80 train",
                "model.frozen_layers: layer 3 is not loaded from init_from (init_from_layers 1 loads layer 0 only): it "
                        + "is frozen at its initial values",
                "model.lr_scales: layer 3 is frozen; its lr scale changes nothing"),
                JobPlan.load(b.build(), roots()).startNotes());
        b.getModelBuilder().clearFrozenLayers().addFrozenLayers(0).clearLrScales();
        assertEquals(List.of("frozen layers [0]: 80 of the model's 131 parameters are frozen, 51 train"),
                JobPlan.load(b.build(), roots()).startNotes());
    }

    @Test
    void theClassNoteNamesOnlyTheOutputsWhoseClassDiffers() {
        List<String> digits = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
        assertEquals("model.init_from's outputs 5 to 9 stood for the classes [5, 6, 7, 8, 9], which this job's data do "
                + "not have; outputs 0 to 4 stand for the same classes as there",
                InitFromNotes.classDifference(digits, digits.subList(0, 5)));
        assertEquals("this job's classes [9] are new to model.init_from: its output 9 stood for no class there; "
                + "outputs 0 to 8 stand for the same classes as there",
                InitFromNotes.classDifference(digits.subList(0, 9), digits));
        assertEquals("model.init_from's outputs stand for other classes than this job's: output 1 is 'dog' there and "
                + "'cow' here: its output layer starts from another meaning for that output",
                InitFromNotes.classDifference(List.of("cat", "dog", "eel"), List.of("cat", "cow", "eel")));
        assertEquals("model.init_from's outputs stand for other classes than this job's: output 0 is '0' there and "
                + "'1' here, output 1 is '1' there and '2' here, output 2 is '2' there and '3' here (9 of 9 outputs "
                + "differ): its output layer starts from another meaning for those outputs",
                InitFromNotes.classDifference(digits.subList(0, 9), digits.subList(1, 10)));
    }

    @Test
    void initFromTellsWhereTheSavedModelsInputsOrClassesDifferFromTheJobs() throws IOException {
        JobPlan base = JobPlan.load(job().setSeed(5).build(), roots());
        Sequential pretrained = base.buildModel(Backends.cpu());
        ModelFile.save(pretrained, root.resolve("pretrained.safetensors"), base.preprocessing());
        ModelFile.save(pretrained, root.resolve("bare.safetensors")); // no metadata, as PyTorch writes
        JobSpec.Builder same = job();
        same.getModelBuilder().setInitFrom("pretrained.safetensors");
        assertEquals(List.of(), JobPlan.load(same.build(), roots()).initFromNotes(), "same data, same preparation");
        JobSpec.Builder bare = job().setSeed(6);
        bare.getModelBuilder().setInitFrom("bare.safetensors");
        bare.getDataBuilder().setNormalization("none");
        assertEquals(List.of(), JobPlan.load(bare.build(), roots()).initFromNotes(), "nothing known to compare");

        // another normalisation
        JobSpec.Builder raw = job();
        raw.getModelBuilder().setInitFrom("pretrained.safetensors");
        raw.getDataBuilder().setNormalization("none");
        assertEquals(List.of("model.init_from was trained on inputs normalised with standardize; this job's are "
                + "normalised with none, so its loaded layers see inputs on another scale"),
                JobPlan.load(raw.build(), roots()).initFromNotes());

        // the same columns and normalisation, fitted on other rows: feature 0 is r there and r + 20 here
        StringBuilder later = new StringBuilder("f0,f1,y,f2,f3\n");
        for (int r = 0; r < 30; r++) {
            later.append(r + 20).append(',').append(r % 7).append(',').append("abc".charAt(r % 3)).append(',')
                    .append(r * 0.5).append(',').append(-r).append('\n');
        }
        Files.writeString(root.resolve("later.csv"), later);
        JobSpec.Builder shifted = job();
        shifted.getDataBuilder().setTrain(JobValidatorTest.csv("later.csv", "y"));
        shifted.getModelBuilder().setInitFrom("pretrained.safetensors");
        List<String> shiftedNotes = JobPlan.load(shifted.build(), roots()).initFromNotes();
        assertEquals(1, shiftedNotes.size(), shiftedNotes.toString());
        assertTrue(shiftedNotes.get(0).startsWith("model.init_from's inputs were normalised with the statistics of its "
                + "own training data, and this job's differ: feature 0 (of 4), for one, comes out up to 2.2 apart in "
                + "normalised units"), shiftedNotes.get(0));

        // the same columns in another order, and other classes: both told when the whole model is
        // loaded; the classes not when only the body is
        StringBuilder other = new StringBuilder("f1,f0,y,f2,f3\n");
        for (int r = 0; r < 30; r++) {
            other.append(r % 7).append(',').append(r).append(',').append("xyz".charAt(r % 3)).append(',')
                    .append(r * 0.5).append(',').append(-r).append('\n');
        }
        Files.writeString(root.resolve("other.csv"), other);
        JobSpec.Builder reordered = job();
        reordered.getDataBuilder().setTrain(JobValidatorTest.csv("other.csv", "y"));
        reordered.getModelBuilder().setInitFrom("pretrained.safetensors");
        assertEquals(List.of("model.init_from was trained on CSV columns that differ from this job's from column 1 on "
                + "('f0' there, 'f1' here)", "model.init_from's outputs stand for other classes than this job's: "
                + "output 0 is 'a' there and 'x' here, output 1 is 'b' there and 'y' here, output 2 is 'c' there and "
                + "'z' here: its output layer starts from another meaning for those outputs"),
                JobPlan.load(reordered.build(), roots()).initFromNotes());
        reordered.getModelBuilder().setInitFromLayers(1);
        assertEquals(1, JobPlan.load(reordered.build(), roots()).initFromNotes().size());
        // every layer with weights loaded, an activation after the output layer not: the classes
        // matter as much as when the whole model is loaded
        reordered.getModelBuilder().setInitFromLayers(4).addLayers(io.parallax.proto.v1.LayerSpec.newBuilder()
                .setActivation(io.parallax.proto.v1.ActivationLayer.newBuilder().setType("identity")));
        assertEquals(2, JobPlan.load(reordered.build(), roots()).initFromNotes().size());
    }

    @Test
    void pixelsOfTheSameImagesAreTheSameInputWhateverTheirLeadingAxes() throws IOException {
        JobPlan base = JobPlan.load(job().build(), roots());
        Path file = root.resolve("idx.safetensors");
        List<String> digits = List.of("0", "1", "2");
        ModelFile.save(base.buildModel(Backends.cpu()), file, new io.parallax.engine.data.Preprocessing(
                io.parallax.engine.data.InputFormat.idx(List.of(2, 2)), null, digits));
        assertEquals(List.of(), InitFromNotes.of(file, new io.parallax.engine.data.Preprocessing(
                io.parallax.engine.data.InputFormat.imageFolder(1, 2, 2), null, digits), true));
        assertEquals(List.of("model.init_from was trained on pixels / 255 of shape [2, 2]; this job's inputs are "
                + "pixels / 255 of shape [4, 1, 1]"), InitFromNotes.of(file, new io.parallax.engine.data.Preprocessing(
                io.parallax.engine.data.InputFormat.imageFolder(4, 1, 1), null, digits), true));
    }

    @Test
    void anInitFromFileThatDoesNotFitIsRejected() throws IOException {
        JobSpec.Builder other = job();
        other.getModelBuilder().getLayersBuilder(0).getLinearBuilder().setOutFeatures(5);
        ModelFile.save(JobPlan.load(other.build(), roots()).buildModel(Backends.cpu()), root.resolve("w.safetensors"));
        JobSpec.Builder b = job();
        b.getModelBuilder().setInitFrom("w.safetensors");
        assertNames(rejected(b), "model.init_from", "does not fit the model");
        Files.createDirectories(root.resolve("models"));
        b.getModelBuilder().setInitFrom("models");
        assertNames(rejected(b), "model.init_from", root.toRealPath().resolve("models")
                + " is a folder; name a model file (.safetensors) in it");
    }

    @Test
    void scheduleDefaultsFollowTheRunLength() throws IOException {
        JobSpec.Builder b = job().setEpochs(10);
        b.setSchedule(ScheduleSpec.newBuilder().setType("cosine").setGranularity("step").setWarmup(3));
        JobPlan plan = JobPlan.load(b.build(), roots());
        assertEquals(LearningRateSchedule.Granularity.STEP, plan.granularity());
        LearningRateSchedule s = plan.schedule();
        assertEquals(1e-3 / 3, s.learningRate(0), 1e-12, "LinearLR's start factor 1/3");
        assertEquals(1e-3, s.learningRate(3), 1e-12);
        // t_max = 3 steps × 10 epochs − 3 warm-up steps: the rate reaches η_min = 0 at the last step
        assertEquals(0, s.learningRate(30), 1e-12);
        assertEquals(LearningRateSchedule.Granularity.EPOCH, JobPlan.load(job().build(), roots()).granularity());
        assertEquals(1e-3, JobPlan.load(job().build(), roots()).schedule().learningRate(7), 0);
    }

    @Test
    void thePlanTrainsTheBreastCancerExample() throws IOException {
        Path examples = JobFilesTest.EXAMPLES;
        JobPlan plan = JobPlan.load(JobFiles.read(examples.resolve("breast-cancer.json")), DataRoots.of(examples));
        assertEquals(30, plan.inputFeatures());
        assertEquals(List.of("0", "1"), plan.classNames());
        Sequential model = plan.buildModel(Backends.cpu());
        Trainer trainer = new Trainer(model, plan.loss(Loss.Reduction.MEAN), plan.optimizer(model),
                plan.trainingConfig());
        List<EpochResult> results = trainer.fit(plan.train(), plan.validation().orElseThrow(), null);
        double accuracy = results.get(results.size() - 1).validation().accuracy();
        assertTrue(accuracy >= 0.93, "validation accuracy " + accuracy);
    }

    @Test
    void theDigitsAndFashionMnistExamplesLoad() throws IOException {
        Path examples = JobFilesTest.EXAMPLES;
        DataRoots roots = DataRoots.of(examples, Path.of("/usr/share/datasets"));
        JobPlan digits = JobPlan.load(JobFiles.read(examples.resolve("digits.json")), roots);
        assertEquals(64, digits.inputFeatures());
        assertEquals(1797 - 359, digits.train().rows());
        assertEquals(10, digits.classNames().size());
        Path fashion = Path.of("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
        assumeTrue(Files.isRegularFile(fashion), "Fashion-MNIST is not installed");
        JobPlan plan = JobPlan.load(JobFiles.read(examples.resolve("fashion-mnist.json")), roots);
        assertEquals(60_000, plan.train().rows());
        assertEquals(10_000, plan.validation().orElseThrow().rows());
        assertEquals(784, plan.inputFeatures());
        assertEquals(10, plan.classNames().size());
    }
}
