package io.parallax.worker.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.proto.v1.ActivationLayer;
import io.parallax.proto.v1.BatchNormLayer;
import io.parallax.proto.v1.ClippingSpec;
import io.parallax.proto.v1.CsvSource;
import io.parallax.proto.v1.DataSource;
import io.parallax.proto.v1.DataSpec;
import io.parallax.proto.v1.DropoutLayer;
import io.parallax.proto.v1.IdxSource;
import io.parallax.proto.v1.ImageFolderSource;
import io.parallax.proto.v1.JobSpec;
import io.parallax.proto.v1.LayerSpec;
import io.parallax.proto.v1.LinearLayer;
import io.parallax.proto.v1.ModelSpec;
import io.parallax.proto.v1.OptimizerSpec;
import io.parallax.proto.v1.ScheduleSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class JobValidatorTest {

    /** A root that need not exist: the validator reads no data. */
    static final Path ROOT = Path.of("/parallax-test-data-root");
    static final DataRoots ROOTS = DataRoots.of(ROOT);

    static LayerSpec linear(int out) {
        return LayerSpec.newBuilder().setLinear(LinearLayer.newBuilder().setOutFeatures(out)).build();
    }

    static LayerSpec activation(String type) {
        return LayerSpec.newBuilder().setActivation(ActivationLayer.newBuilder().setType(type)).build();
    }

    static DataSource csv(String path, String label) {
        return DataSource.newBuilder().setCsv(CsvSource.newBuilder().setPath(path).setLabelColumn(label)).build();
    }

    /** A valid job: 4 → 16 → ReLU → dropout → 3, Adam, a CSV under the root. */
    static JobSpec.Builder valid() {
        return JobSpec.newBuilder()
                .setName("valid")
                .setModel(ModelSpec.newBuilder().addLayers(linear(16)).addLayers(activation("relu"))
                        .addLayers(LayerSpec.newBuilder().setDropout(DropoutLayer.newBuilder().setP(0.5)))
                        .addLayers(linear(3)))
                .setLoss("cross_entropy")
                .setOptimizer(OptimizerSpec.newBuilder().setName("adam").setLr(1e-3))
                .setData(DataSpec.newBuilder().setTrain(csv(ROOT + "/train.csv", "y")))
                .setBatchSize(8)
                .setEpochs(2);
    }

    private static Arguments bad(String field, String fragment, Consumer<JobSpec.Builder> change) {
        return Arguments.of(field, fragment, change);
    }

    private static ModelSpec.Builder model(JobSpec.Builder b) {
        return b.getModelBuilder();
    }

    private static LayerSpec.Builder layer(JobSpec.Builder b, int i) {
        return b.getModelBuilder().getLayersBuilder(i);
    }

    static Stream<Arguments> invalidJobs() {
        return Stream.of(
                // the model
                bad("model", "required", b -> b.clearModel()),
                bad("model.layers", "at least one layer", b -> model(b).clearLayers()),
                bad("model.input_features", "must be ≥ 1, got 0", b -> model(b).setInputFeatures(0)),
                bad("model.layers[0].linear.out_features", "must be ≥ 1, got 0",
                        b -> layer(b, 0).getLinearBuilder().setOutFeatures(0)),
                bad("model.layers[1]", "exactly one of linear", b -> layer(b, 1).clear()),
                bad("name", "must not hold control characters", b -> b.setName("ok\u001b[2Kfake line")),
                bad("workers", "must be ≤ 1024", b -> b.setWorkers(1025)),
                bad("model.layers[1].activation.type", "unknown activation 'relu6'",
                        b -> layer(b, 1).getActivationBuilder().setType("relu6")),
                bad("model.layers[1].activation.type", "required", b -> layer(b, 1).getActivationBuilder().setType("")),
                bad("model.layers[1].activation.negative_slope", "only leaky_relu",
                        b -> layer(b, 1).getActivationBuilder().setNegativeSlope(0.1)),
                bad("model.layers[1].activation.alpha", "only elu",
                        b -> layer(b, 1).getActivationBuilder().setType("tanh").setAlpha(1)),
                bad("model.layers[2].dropout.p", "must be in [0, 1), got 1.5",
                        b -> layer(b, 2).getDropoutBuilder().setP(1.5)),
                bad("model.layers[2].batch_norm.eps", "must be > 0, got 0",
                        b -> layer(b, 2).setBatchNorm(BatchNormLayer.newBuilder().setEps(0))),
                bad("model.layers[2].batch_norm.momentum", "must be in [0, 1], got 2",
                        b -> layer(b, 2).setBatchNorm(BatchNormLayer.newBuilder().setMomentum(2))),
                bad("model.layers[0].linear.weight_init", "unknown initialiser 'glorot'",
                        b -> layer(b, 0).getLinearBuilder().setWeightInit("glorot")),
                bad("model.layers[3].linear.in_features", "5 does not match the width 16",
                        b -> layer(b, 3).getLinearBuilder().setInFeatures(5)),
                bad("model.frozen_layers[0]", "outside [0, 4)", b -> model(b).addFrozenLayers(9)),
                bad("model.frozen_layers[0]", "no parameters", b -> model(b).addFrozenLayers(1)),
                bad("model.frozen_layers[1]", "listed twice", b -> model(b).addFrozenLayers(0).addFrozenLayers(0)),
                bad("model.lr_scales[0]", "must be > 0, got 0", b -> model(b).putLrScales(0, 0)),
                bad("model.lr_scales[2]", "no parameters", b -> model(b).putLrScales(2, 0.5)),
                bad("model.init_from_layers", "needs model.init_from", b -> model(b).setInitFromLayers(1)),
                bad("model.init_from_layers", "must be in [1, 4]",
                        b -> model(b).setInitFrom(ROOT + "/w.safetensors").setInitFromLayers(5)),
                bad("model.init_from", "outside the data roots", b -> model(b).setInitFrom("/tmp/w.safetensors")),
                // the loss
                bad("loss", "a loss is required", b -> b.setLoss("")),
                bad("loss", "unknown loss 'hinge'", b -> b.setLoss("hinge")),
                bad("loss", "end the model with a sigmoid", b -> b.setLoss("bce")),
                // the optimizer
                bad("optimizer", "an optimizer is required", b -> b.clearOptimizer()),
                bad("optimizer.name", "unknown optimizer 'lbfgs'", b -> b.getOptimizerBuilder().setName("lbfgs")),
                bad("optimizer.name", "required", b -> b.getOptimizerBuilder().setName("")),
                bad("optimizer.lr", "must be ≥ 0, got -1", b -> b.getOptimizerBuilder().setLr(-1)),
                bad("optimizer.lr", "must be ≥ 0, got Infinity",
                        b -> b.getOptimizerBuilder().setLr(Double.POSITIVE_INFINITY)),
                bad("optimizer.lr", "must be > 0 for ftrl, whose update divides by it, got 0",
                        b -> b.getOptimizerBuilder().setName("ftrl").setLr(0)),
                bad("optimizer.betas", "two numbers", b -> b.getOptimizerBuilder().addBetas(0.9)),
                bad("optimizer.betas[1]", "must be in [0, 1), got 1",
                        b -> b.getOptimizerBuilder().addBetas(0.9).addBetas(1)),
                bad("optimizer.nesterov", "adam has no hyperparameter 'nesterov'",
                        b -> b.getOptimizerBuilder().setNesterov(true)),
                bad("optimizer", "nesterov", b -> b.getOptimizerBuilder().setName("sgd").clearLr().setNesterov(true)),
                bad("optimizer.weight_decay", "must be ≥ 0, got -0.1",
                        b -> b.getOptimizerBuilder().setWeightDecay(-0.1)),
                bad("optimizer.eps", "got NaN", b -> b.getOptimizerBuilder().setEps(Double.NaN)),
                bad("optimizer.rho", "must be in [0, 1], got 1.5",
                        b -> b.getOptimizerBuilder().setName("adadelta").setRho(1.5)),
                bad("optimizer.learning_rate_power", "must be ≤ 0, got 0.5",
                        b -> b.getOptimizerBuilder().setName("ftrl").setLearningRatePower(0.5)),
                // the schedule and clipping
                bad("schedule.type", "unknown schedule 'linear'", b -> b.setSchedule(schedule("linear"))),
                bad("schedule.gamma", "needs gamma", b -> b.setSchedule(schedule("exponential"))),
                bad("schedule.step_size", "needs step_size", b -> b.setSchedule(schedule("step"))),
                bad("schedule.gamma", "must be in (0, 1], got 0",
                        b -> b.setSchedule(schedule("step").setStepSize(2).setGamma(0))),
                bad("schedule.decay", "a cosine schedule has no decay", b -> b.setSchedule(schedule("cosine").setDecay(1))),
                bad("schedule.t_max", "must be ≥ 1, got 0", b -> b.setSchedule(schedule("cosine").setTMax(0))),
                bad("schedule.eta_min", "must not exceed the optimizer's lr",
                        b -> b.setSchedule(schedule("cosine").setEtaMin(0.5))),
                bad("schedule.warmup", "must be ≥ 0, got -1", b -> b.setSchedule(schedule("").setWarmup(-1))),
                bad("schedule.warmup_start_factor", "must be in (0, 1], got 0",
                        b -> b.setSchedule(schedule("").setWarmup(3).setWarmupStartFactor(0))),
                bad("schedule.granularity", "'epoch' or 'step', got 'batch'",
                        b -> b.setSchedule(schedule("").setGranularity("batch"))),
                bad("clipping.max_norm", "must be > 0, got 0", b -> b.setClipping(ClippingSpec.newBuilder().setMaxNorm(0))),
                bad("clipping.clip_value", "must be > 0, got -1",
                        b -> b.setClipping(ClippingSpec.newBuilder().setClipValue(-1))),
                // the data
                bad("data", "data is required", b -> b.clearData()),
                bad("data.train", "a data source is required", b -> b.getDataBuilder().clearTrain()),
                bad("data.train", "exactly one of idx, csv, image_folder",
                        b -> b.getDataBuilder().setTrain(DataSource.getDefaultInstance())),
                bad("data.train.csv.path", "a path is required", b -> b.getDataBuilder().setTrain(csv("", "y"))),
                bad("data.train.csv.label_column", "required",
                        b -> b.getDataBuilder().setTrain(csv(ROOT + "/t.csv", ""))),
                bad("data.train.csv.path", "/etc/passwd is outside the data roots [" + ROOT + "] (nodes read data"
                        + " only under their data roots: start them with --data-root /etc, or add it to PARALLAX_DATA_ROOTS)",
                        b -> b.getDataBuilder().setTrain(csv("/etc/passwd", "y"))),
                bad("data.train.csv.path", "/etc/passwd is outside the data roots",
                        b -> b.getDataBuilder().setTrain(csv("../../../../etc/passwd", "y"))),
                bad("data.train.csv.path", "/etc/shadow is outside the data roots",
                        b -> b.getDataBuilder().setTrain(csv(ROOT + "/../etc/shadow", "y"))),
                bad("data.train.csv.path", "not a valid path",
                        b -> b.getDataBuilder().setTrain(csv(ROOT + "/a\u0000b", "y"))),
                bad("data.validation.idx.labels", "a path is required",
                        b -> b.getDataBuilder().setValidation(DataSource.newBuilder().setIdx(
                                IdxSource.newBuilder().setImages(ROOT + "/t10k-images")))),
                bad("data.train.image_folder.height", "both width and height",
                        b -> b.getDataBuilder().setTrain(DataSource.newBuilder().setImageFolder(
                                ImageFolderSource.newBuilder().setPath(ROOT + "/img").setWidth(32)))),
                bad("data.train.image_folder.width", "must be ≤ 4096, got 5000",
                        b -> b.getDataBuilder().setTrain(DataSource.newBuilder().setImageFolder(
                                ImageFolderSource.newBuilder().setPath(ROOT + "/img").setWidth(5000).setHeight(5)))),
                bad("data.validation_split", "must be in (0, 1), got 1", b -> b.getDataBuilder().setValidationSplit(1)),
                bad("data.validation_split", "not both", b -> b.getDataBuilder().setValidationSplit(0.2)
                        .setValidation(csv(ROOT + "/v.csv", "y"))),
                bad("data.normalization", "unknown normalization 'zscore'",
                        b -> b.getDataBuilder().setNormalization("zscore")),
                // the loop
                bad("batch_size", "must be ≥ 1, got 0", b -> b.setBatchSize(0)),
                bad("batch_size", "must be ≤ 1048576", b -> b.setBatchSize(1 << 24)),
                bad("epochs", "must be ≥ 1, got 0", b -> b.setEpochs(0)),
                bad("workers", "must be ≥ 0, got -1", b -> b.setWorkers(-1)));
    }

    private static ScheduleSpec.Builder schedule(String type) {
        return ScheduleSpec.newBuilder().setType(type);
    }

    @Test
    void theBaseJobIsValid() {
        assertEquals(List.of(), JobValidator.validate(valid().build(), ROOTS));
    }

    @Test
    void thereAreAtLeastThirtyDistinctInvalidJobs() {
        assertTrue(invalidJobs().count() >= 30);
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("invalidJobs")
    void eachInvalidJobIsRejectedNamingTheField(String field, String fragment, Consumer<JobSpec.Builder> change) {
        JobSpec.Builder b = valid();
        change.accept(b);
        InvalidJobException e = assertThrows(InvalidJobException.class, () -> JobValidator.check(b.build(), ROOTS));
        boolean named = e.errors().stream().anyMatch(err -> err.field().equals(field) && err.message().contains(fragment));
        assertTrue(named, "expected '" + field + ": …" + fragment + "…', got:\n" + e.getMessage());
        assertTrue(e.getMessage().contains(field + ": "), e.getMessage());
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        JobSpec.Builder b = valid().setBatchSize(0).setEpochs(-3);
        b.getOptimizerBuilder().setLr(-1);
        layer(b, 2).getDropoutBuilder().setP(1.5);
        List<String> fields = JobValidator.validate(b.build(), ROOTS).stream().map(FieldError::field).toList();
        assertEquals(List.of("model.layers[2].dropout.p", "optimizer.lr", "batch_size", "epochs"), fields);
    }

    @Test
    void aLinkInsideARootThatLeadsOutsideIsRefused(@TempDir Path tmp) throws IOException {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Path outside = Files.writeString(tmp.resolve("secret.csv"), "a,y\n1,0\n");
        Files.createSymbolicLink(root.resolve("innocent.csv"), outside);
        JobSpec.Builder b = valid();
        b.getDataBuilder().setTrain(csv("innocent.csv", "y"));
        List<FieldError> errors = JobValidator.validate(b.build(), DataRoots.of(root));
        assertEquals(1, errors.size(), errors.toString());
        assertEquals("data.train.csv.path", errors.get(0).field());
        assertTrue(errors.get(0).message().contains("outside the data roots"), errors.get(0).message());
    }

    @Test
    void relativePathsResolveUnderARoot(@TempDir Path tmp) throws IOException {
        Path first = Files.createDirectories(tmp.resolve("a"));
        Path second = Files.createDirectories(tmp.resolve("b"));
        Files.writeString(second.resolve("d.csv"), "x,y\n1,0\n");
        DataRoots roots = DataRoots.of(first, second);
        assertEquals(second.toRealPath().resolve("d.csv"), roots.resolve("d.csv"));
        assertEquals(first.toRealPath().resolve("new.csv"), roots.resolve("new.csv"));
        JobSpec.Builder b = valid();
        b.getDataBuilder().setTrain(csv("d.csv", "y"));
        assertEquals(List.of(), JobValidator.validate(b.build(), roots));
    }
}
