package io.parallax.coordinator.service;

import static io.parallax.coordinator.service.ServiceFixture.submit;
import static io.parallax.coordinator.service.ServiceFixture.watchAll;
import static io.parallax.coordinator.service.ServiceFixture.withDeadline;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.BadRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.parallax.proto.v1.ActivationLayer;
import io.parallax.proto.v1.BatchNormLayer;
import io.parallax.proto.v1.ClippingSpec;
import io.parallax.proto.v1.CsvSource;
import io.parallax.proto.v1.DataSource;
import io.parallax.proto.v1.DropoutLayer;
import io.parallax.proto.v1.JobEvent;
import io.parallax.proto.v1.JobServiceGrpc;
import io.parallax.proto.v1.JobSpec;
import io.parallax.proto.v1.JobState;
import io.parallax.proto.v1.LayerSpec;
import io.parallax.proto.v1.ListJobsRequest;
import io.parallax.proto.v1.ScheduleSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input at submission: every spec below comes back INVALID_ARGUMENT with a description line
 * naming the field, and leaves no job behind; paths outside the data roots — absolute, climbing
 * out with {@code ..}, or through a symbolic link inside a root — are refused before anything is
 * read; and afterwards the same coordinator still runs a valid job.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InvalidJobSpecTest {

    @TempDir
    static Path temp;

    ServiceFixture fx;
    JobServiceGrpc.JobServiceBlockingStub stub;

    @BeforeAll
    void start() throws Exception {
        Path root = Files.createDirectories(temp.resolve("root"));
        Path outside = Files.createDirectories(temp.resolve("outside"));
        Files.copy(ServiceFixture.EXAMPLES.resolve("data/breast_cancer.csv"), outside.resolve("breast_cancer.csv"));
        // links inside a data root that lead out of every root
        Files.createSymbolicLink(root.resolve("escape.csv"), outside.resolve("breast_cancer.csv"));
        Files.createSymbolicLink(root.resolve("escape-dir"), outside);
        fx = new ServiceFixture(temp.resolve("coordinator"), List.of(ServiceFixture.EXAMPLES, root), 10);
        stub = fx.stub();
    }

    @AfterAll
    void stop() throws Exception {
        fx.close();
    }

    private static Arguments bad(String field, String fragment, Consumer<JobSpec.Builder> change) {
        return Arguments.of(field, fragment, change);
    }

    private static LayerSpec.Builder layer(JobSpec.Builder b, int i) {
        return b.getModelBuilder().getLayersBuilder(i);
    }

    private static Consumer<JobSpec.Builder> trainCsv(String path, String label) {
        return b -> b.getDataBuilder().setTrain(DataSource.newBuilder()
                .setCsv(CsvSource.newBuilder().setPath(path).setLabelColumn(label)));
    }

    /** The base job is {@link ServiceFixture#smallJob}: 30 features → linear 16 → relu → linear 2. */
    static Stream<Arguments> invalidJobs() {
        return Stream.of(
                // the model
                bad("model", "required", JobSpec.Builder::clearModel),
                bad("model.layers", "at least one layer", b -> b.getModelBuilder().clearLayers()),
                bad("model.layers[0].linear.out_features", "must be ≥ 1, got 0",
                        b -> layer(b, 0).getLinearBuilder().setOutFeatures(0)),
                bad("model.layers[1]", "exactly one of", b -> layer(b, 1).clear()),
                bad("model.layers[1].activation.type", "unknown activation 'relu6'",
                        b -> layer(b, 1).getActivationBuilder().setType("relu6")),
                bad("model.layers[1].activation.type", "required", b -> layer(b, 1).getActivationBuilder().setType("")),
                bad("model.layers[1].activation.negative_slope", "leaky_relu",
                        b -> layer(b, 1).setActivation(ActivationLayer.newBuilder().setType("relu").setNegativeSlope(0.1))),
                bad("model.layers[1].dropout.p", "must be in [0, 1), got 1.5",
                        b -> layer(b, 1).setDropout(DropoutLayer.newBuilder().setP(1.5))),
                bad("model.layers[1].batch_norm.eps", "must be > 0, got 0",
                        b -> layer(b, 1).setBatchNorm(BatchNormLayer.newBuilder().setEps(0))),
                bad("model.layers[0].linear.weight_init", "unknown initialiser 'glorot'",
                        b -> layer(b, 0).getLinearBuilder().setWeightInit("glorot")),
                bad("model.frozen_layers[0]", "outside", b -> b.getModelBuilder().addFrozenLayers(9)),
                bad("model.lr_scales[0]", "must be > 0, got 0", b -> b.getModelBuilder().putLrScales(0, 0)),
                bad("model.init_from_layers", "needs model.init_from", b -> b.getModelBuilder().setInitFromLayers(1)),
                bad("model.init_from", "outside the data roots", b -> b.getModelBuilder().setInitFrom("/etc/hosts")),
                // the loss and the optimizer
                bad("loss", "required", b -> b.setLoss("")),
                bad("loss", "unknown loss 'hinge'", b -> b.setLoss("hinge")),
                bad("optimizer", "required", JobSpec.Builder::clearOptimizer),
                bad("optimizer.name", "unknown optimizer 'lbfgs'", b -> b.getOptimizerBuilder().setName("lbfgs")),
                bad("optimizer.lr", "must be ≥ 0, got -1", b -> b.getOptimizerBuilder().setLr(-1)),
                bad("optimizer.betas", "two numbers", b -> b.getOptimizerBuilder().addBetas(0.9)),
                bad("optimizer.nesterov", "adam has no hyperparameter 'nesterov'",
                        b -> b.getOptimizerBuilder().setNesterov(true)),
                bad("optimizer.weight_decay", "must be ≥ 0, got -0.1", b -> b.getOptimizerBuilder().setWeightDecay(-0.1)),
                // the schedule and clipping
                bad("schedule.type", "unknown schedule 'linear'",
                        b -> b.setSchedule(ScheduleSpec.newBuilder().setType("linear"))),
                bad("schedule.gamma", "needs gamma", b -> b.setSchedule(ScheduleSpec.newBuilder().setType("exponential"))),
                bad("schedule.granularity", "got 'batch'",
                        b -> b.setSchedule(ScheduleSpec.newBuilder().setGranularity("batch"))),
                bad("clipping.max_norm", "must be > 0, got 0", b -> b.setClipping(ClippingSpec.newBuilder().setMaxNorm(0))),
                // the data, as written
                bad("data", "required", JobSpec.Builder::clearData),
                bad("data.train", "required", b -> b.getDataBuilder().clearTrain()),
                bad("data.train.csv.path", "a path is required", trainCsv("", "target")),
                bad("data.train.csv.label_column", "required", trainCsv("data/breast_cancer.csv", "")),
                bad("data.validation_split", "must be in (0, 1), got 1", b -> b.getDataBuilder().setValidationSplit(1)),
                bad("data.normalization", "unknown normalization 'zscore'",
                        b -> b.getDataBuilder().setNormalization("zscore")),
                // the loop
                bad("batch_size", "must be ≥ 1, got 0", b -> b.setBatchSize(0)),
                bad("epochs", "must be ≥ 1, got 0", b -> b.setEpochs(0)),
                bad("workers", "must be ≥ 0, got -1", b -> b.setWorkers(-1)),
                // what only the data can tell
                // 196 M parameters for 1024 workers: a coordinator needs ~800 GB to gather their
                // gradients (more than any machine this runs on), refused at submission rather than
                // when the job's turn comes, before the model is built to check it against the data
                bad("model", "of Java heap in the coordinator's JVM (196,476,002 parameters, batch 64, the coordinator",
                        b -> {
                            layer(b, 0).getLinearBuilder().setOutFeatures(14_000);
                            b.getModelBuilder().addLayers(1, LayerSpec.newBuilder().setLinear(
                                    io.parallax.proto.v1.LinearLayer.newBuilder().setOutFeatures(14_000)));
                            b.setWorkers(1024);
                        }),
                bad("data.train.csv.label_column", "'no_such_column' is not a column",
                        trainCsv("data/breast_cancer.csv", "no_such_column")),
                bad("data.train.csv.path", "no such file", trainCsv("data/no_such_file.csv", "target")),
                bad("model.input_features", "31 does not match the data",
                        b -> b.getModelBuilder().setInputFeatures(31)),
                bad("model.layers[0].linear.in_features", "10 does not match the width 30",
                        b -> layer(b, 0).getLinearBuilder().setInFeatures(10)),
                bad("model.layers[2].linear.out_features", "has 2 classes",
                        b -> layer(b, 2).getLinearBuilder().setOutFeatures(1)),
                // outside the data roots
                bad("data.train.csv.path", "/etc/passwd is outside the data roots", trainCsv("/etc/passwd", "x")),
                bad("data.train.csv.path", "/etc/passwd is outside the data roots",
                        trainCsv("../../../../../../../../etc/passwd", "x")),
                bad("data.train.csv.path", "/etc/passwd is outside the data roots",
                        trainCsv("data/../../../../../../../../../etc/passwd", "x")),
                bad("data.train.csv.path", "outside the data roots", trainCsv("escape.csv", "target")),
                bad("data.train.csv.path", "outside the data roots", trainCsv("escape-dir/breast_cancer.csv", "target")));
    }

    @Order(1)
    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("invalidJobs")
    void isRejectedNamingTheField(String field, String fragment, Consumer<JobSpec.Builder> change) {
        JobSpec.Builder b = ServiceFixture.smallJob("bad", 1, 64).toBuilder();
        change.accept(b);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> submit(stub, b.build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), String.valueOf(e.getStatus()));
        String description = e.getStatus().getDescription();
        List<String> lines = Arrays.asList(description.split("\n"));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(field + ": ") && l.contains(fragment)),
                "expected a line '" + field + ": …" + fragment + "…' in:\n" + description);
        assertFalse(description.contains("Exception") || description.contains("\tat "), description);
        // the same problems as structured details, for programs
        BadRequest details = badRequest(e);
        assertEquals(lines.size(), details.getFieldViolationsCount());
        assertTrue(details.getFieldViolationsList().stream().anyMatch(v -> v.getField().equals(field)));
    }

    @Order(2)
    @Test
    void everyProblemOfOneSpecIsListed() {
        JobSpec spec = ServiceFixture.smallJob("many", 1, 64).toBuilder().setLoss("hinge").setBatchSize(0)
                .setEpochs(-1).build();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> submit(stub, spec));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        List<String> fields = Arrays.stream(e.getStatus().getDescription().split("\n"))
                .map(l -> l.substring(0, l.indexOf(": "))).toList();
        assertEquals(List.of("loss", "batch_size", "epochs"), fields);
    }

    @Order(3)
    @Test
    void theTableHoldsAtLeastThirtyDistinctSpecs() {
        Set<String> distinct = new HashSet<>();
        invalidJobs().forEach(a -> {
            JobSpec.Builder b = ServiceFixture.smallJob("bad", 1, 64).toBuilder();
            @SuppressWarnings("unchecked")
            Consumer<JobSpec.Builder> change = (Consumer<JobSpec.Builder>) a.get()[2];
            change.accept(b);
            distinct.add(b.build().toString());
        });
        assertTrue(distinct.size() >= 30, distinct.size() + " distinct invalid specs");
    }

    @Order(4)
    @Test
    void noRejectedSpecLeftARecordAndAValidJobStillRuns() {
        assertEquals(0, withDeadline(stub).listJobs(ListJobsRequest.getDefaultInstance()).getJobsCount());
        String id = submit(stub, ServiceFixture.smallJob("good", 1, 64));
        List<JobEvent> events = watchAll(stub, id);
        assertEquals(JobState.SUCCEEDED, events.get(events.size() - 1).getFinished().getState(),
                events.get(events.size() - 1).toString());
        assertEquals(1, withDeadline(stub).listJobs(ListJobsRequest.getDefaultInstance()).getJobsCount());
    }

    private static BadRequest badRequest(StatusRuntimeException e) {
        com.google.rpc.Status status = StatusProto.fromThrowable(e);
        try {
            return status.getDetails(0).unpack(BadRequest.class);
        } catch (com.google.protobuf.InvalidProtocolBufferException x) {
            throw new AssertionError(x);
        }
    }
}
