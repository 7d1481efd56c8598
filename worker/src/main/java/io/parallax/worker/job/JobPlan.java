package io.parallax.worker.job;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.clip.GradientClipping;
import io.parallax.engine.data.Dataset;
import io.parallax.engine.data.Preprocessing;
import io.parallax.engine.init.Initializer;
import io.parallax.engine.io.LoadOptions;
import io.parallax.engine.io.ModelFile;
import io.parallax.engine.layer.BatchNorm1d;
import io.parallax.engine.layer.Dropout;
import io.parallax.engine.layer.Layer;
import io.parallax.engine.layer.Layers;
import io.parallax.engine.layer.Linear;
import io.parallax.engine.loss.BinaryCrossEntropyLoss;
import io.parallax.engine.loss.BinaryCrossEntropyWithLogitsLoss;
import io.parallax.engine.loss.CrossEntropyLoss;
import io.parallax.engine.loss.Loss;
import io.parallax.engine.loss.MeanSquaredErrorLoss;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.optim.Optimizers;
import io.parallax.engine.optim.ParameterGroups;
import io.parallax.engine.schedule.ConstantSchedule;
import io.parallax.engine.schedule.CosineAnnealing;
import io.parallax.engine.schedule.ExponentialDecay;
import io.parallax.engine.schedule.InverseSquareRootDecay;
import io.parallax.engine.schedule.InverseTimeDecay;
import io.parallax.engine.schedule.LearningRateSchedule;
import io.parallax.engine.schedule.StepDecay;
import io.parallax.engine.train.TrainingConfig;
import io.parallax.proto.v1.DataSource;
import io.parallax.proto.v1.JobSpec;
import io.parallax.proto.v1.LayerSpec;
import io.parallax.proto.v1.ModelSpec;
import io.parallax.proto.v1.ScheduleSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A validated job, ready to run: the datasets read and normalised, and factories for everything a
 * node needs — model, loss, optimizer, schedule, clipping. {@link #load} does every check first
 * ({@link JobValidator}, then what only the data can tell: missing files, a label column that is
 * not there, images of mixed sizes, a first layer that does not match the data's width, too few
 * outputs for the classes, an {@code init_from} file that does not fit), so a plan that loads
 * trains without a configuration error.
 *
 * <p>Every factory is deterministic: {@link #buildModel} gives the same weights for the same job
 * on every node, so workers and the coordinator start from one state without sending it.
 */
public final class JobPlan {

    /** LinearLR's default start factor, used when a warm-up names none. */
    static final double DEFAULT_WARMUP_START_FACTOR = 1.0 / 3;

    /** Parameters one model may have: 1 GiB of float32, far above any job this trainer is for. */
    public static final long MAX_PARAMETERS = 1L << 28;

    private final JobSpec spec;
    private final JobData data;
    private final int inputFeatures;
    private final Path initFrom;
    private final double learningRate;
    private final LearningRateSchedule schedule;

    private JobPlan(JobSpec spec, JobData data, Path initFrom, double learningRate) {
        this.spec = spec;
        this.data = data;
        this.inputFeatures = data.train().width();
        this.initFrom = initFrom;
        this.learningRate = learningRate;
        this.schedule = buildSchedule();
    }

    /**
     * Validates {@code spec}, reads its data (paths resolved and confined by {@code roots}) and
     * checks the model against the data.
     *
     * @throws InvalidJobException listing the problems, each with its field path
     */
    public static JobPlan load(JobSpec spec, DataRoots roots) {
        return load(spec, roots, MemoryBudget::requireModel);
    }

    /**
     * As {@link #load(JobSpec, DataRoots)}, with {@code memoryCheck} in place of the check that
     * this process can hold one copy of the model ({@code MemoryBudget::requireModel}, the check
     * {@code load(spec, roots)} makes): a process that will run the job checks what it needs for
     * its role ({@link MemoryBudget#require}, which covers that copy) before the model is built
     * here, which for hundreds of millions of parameters takes seconds and gigabytes.
     *
     * @throws InvalidJobException listing the problems, each with its field path, or the memory missing
     */
    public static JobPlan load(JobSpec spec, DataRoots roots, java.util.function.Consumer<JobPlan> memoryCheck) {
        JobValidator.check(spec, roots);
        JobData data = JobData.load(spec.getData(), spec.getSeed(), roots);
        checkWidths(spec.getModel(), data);
        ModelSpec m = spec.getModel();
        Path initFrom = m.getInitFrom().isEmpty() ? null : roots.resolve(m.getInitFrom());
        double lr = Optimizers.create(spec.getOptimizer().getName(),
                OptimizerHyperparameters.toMap(spec.getOptimizer()), ParameterGroups.single(1)).learningRate();
        JobPlan plan;
        try {
            plan = new JobPlan(spec, data, initFrom, lr);
        } catch (IllegalArgumentException e) {
            throw InvalidJobException.of("schedule", e.getMessage());
        }
        // a model too large for this JVM fails here, in words, before anything is allocated
        memoryCheck.accept(plan);
        // build once here so that a model the data or the init_from file cannot feed fails now
        Sequential model;
        try {
            model = plan.buildModel(Backends.cpu());
        } catch (IllegalArgumentException e) {
            throw new InvalidJobException(List.of(new FieldError("model", String.valueOf(e.getMessage()))), e);
        }
        checkOutputs(spec, model, data);
        checkBatchNormBatches(spec, model, data);
        return plan;
    }

    // ---- the model ----------------------------------------------------------------------------

    /**
     * The job's model on {@code backend}: initialised from the job's seed, then loaded from
     * {@code init_from} (all layers or the first {@code init_from_layers}), with the frozen layers
     * frozen. The same job gives the same weights on every call and every node.
     *
     * @throws InvalidJobException (field {@code model.init_from}) if the file cannot be read
     */
    public Sequential buildModel(Backend backend) {
        ModelSpec m = spec.getModel();
        List<Layer> layers = new ArrayList<>();
        int width = inputFeatures;
        for (LayerSpec l : m.getLayersList()) {
            Layer layer = layer(l, width);
            width = layer.outputFeatures(width);
            layers.add(layer);
        }
        Sequential model = new Sequential(inputFeatures, layers, backend, spec.getSeed());
        if (initFrom != null) {
            LoadOptions options = m.hasInitFromLayers() ? LoadOptions.firstLayers(m.getInitFromLayers())
                    : LoadOptions.STRICT;
            try {
                ModelFile.loadInto(model, initFrom, options);
            } catch (IOException | IllegalArgumentException e) {
                // a missing file's exception holds only the path, a folder's only "Is a directory"
                String why = e instanceof java.nio.file.NoSuchFileException ? "no such file: " + initFrom
                        : java.nio.file.Files.isDirectory(initFrom) ? initFrom + " is a folder; name a model file "
                                + "(.safetensors) in it"
                        : e instanceof IOException && !String.valueOf(e.getMessage()).contains(initFrom.toString())
                                ? initFrom + ": " + e.getMessage()
                        : String.valueOf(e.getMessage());
                throw new InvalidJobException(List.of(new FieldError("model.init_from", why)), e);
            }
        }
        for (int i : m.getFrozenLayersList()) {
            model.setFrozen(i, true);
        }
        return model;
    }

    private static Layer layer(LayerSpec l, int width) {
        return switch (l.getKindCase()) {
            case LINEAR -> {
                var s = l.getLinear();
                boolean bias = !s.hasBias() || s.getBias();
                String init = s.getWeightInit();
                yield init.isEmpty() || init.equals("default") ? new Linear(width, s.getOutFeatures(), bias)
                        : Linear.withInit(width, s.getOutFeatures(), bias, Initializer.byName(init));
            }
            case ACTIVATION -> {
                var s = l.getActivation();
                Map<String, Object> options = new HashMap<>();
                if (s.hasNegativeSlope()) {
                    options.put("negative_slope", s.getNegativeSlope());
                }
                if (s.hasAlpha()) {
                    options.put("alpha", s.getAlpha());
                }
                yield Layers.create(s.getType(), options);
            }
            case DROPOUT -> new Dropout(l.getDropout().hasP() ? (float) l.getDropout().getP() : Dropout.DEFAULT_P);
            case BATCH_NORM -> {
                var s = l.getBatchNorm();
                yield new BatchNorm1d(width, s.hasEps() ? (float) s.getEps() : BatchNorm1d.DEFAULT_EPS,
                        s.hasMomentum() ? (float) s.getMomentum() : BatchNorm1d.DEFAULT_MOMENTUM,
                        !s.hasAffine() || s.getAffine());
            }
            default -> throw new IllegalStateException("validated layers have a kind: " + l.getKindCase());
        };
    }

    /** The data's width against model.input_features and each linear layer's in_features. */
    private static void checkWidths(ModelSpec m, JobData data) {
        int width = data.train().width();
        if (m.hasInputFeatures() && m.getInputFeatures() != width) {
            throw InvalidJobException.of("model.input_features", m.getInputFeatures() + " does not match the data: "
                    + data.source() + " has " + width + " features per row");
        }
        String from = data.source() + " (" + width + " features per row)";
        long parameters = 0;
        for (int i = 0; i < m.getLayersCount(); i++) {
            if (m.getLayers(i).hasLinear()) {
                var l = m.getLayers(i).getLinear();
                parameters += (long) width * l.getOutFeatures() + (!l.hasBias() || l.getBias() ? l.getOutFeatures() : 0);
                if (l.hasInFeatures() && l.getInFeatures() != width) {
                    throw InvalidJobException.of("model.layers[" + i + "].linear.in_features", l.getInFeatures()
                            + " does not match the width " + width + " of its input, from " + from);
                }
                width = l.getOutFeatures();
                from = "model.layers[" + i + "].linear.out_features";
            }
        }
        if (parameters > MAX_PARAMETERS) {
            throw InvalidJobException.of("model.layers", "the model has " + parameters + " parameters, more than the "
                    + MAX_PARAMETERS + " a node holds");
        }
    }

    /**
     * Batch norm trains on the statistics of its batch, which one row does not have (PyTorch
     * refuses it too): a batch size of 1, or an epoch whose last batch holds one row, would fail
     * at that step, perhaps hours in. Said now, with the ways out.
     */
    private static void checkBatchNormBatches(JobSpec spec, Sequential model, JobData data) {
        if (model.layers().stream().noneMatch(l -> l instanceof BatchNorm1d)) {
            return;
        }
        String problem = oneRowBatch(data.train().rows(), spec.getBatchSize());
        if (problem != null) {
            throw InvalidJobException.of("batch_size", problem);
        }
    }

    /**
     * What is wrong, for batch norm, with batches of {@code batch} over {@code rows} training rows
     * (one of them, or the last of an epoch, holds a single row), naming a batch size that works;
     * null when nothing is. Shared with {@code trainer train}.
     */
    public static String oneRowBatch(int rows, int batch) {
        if (batch == 1 || rows == 1) {
            return "batch norm needs at least 2 rows per batch in training, and the batches hold 1 row";
        }
        if (rows % batch == 1) {
            return "the last batch of each epoch holds 1 row (" + rows + " training rows = " + (rows / batch) + " × "
                    + batch + " + 1), which batch norm cannot train on; choose a batch size that leaves 0 or at "
                    + "least 2 rows over (e.g. " + suggestBatch(rows, batch) + ")";
        }
        return null;
    }

    /** The nearest batch size to {@code batch} whose last batch is not a single row. */
    private static int suggestBatch(int rows, int batch) {
        for (int d = 1; d < rows; d++) {
            if (batch + d <= rows && rows % (batch + d) != 1) {
                return batch + d;
            }
            if (batch - d >= 2 && rows % (batch - d) != 1) {
                return batch - d;
            }
        }
        return rows;
    }

    /** One output per class for cross-entropy; one (two classes) or one per class for the rest. */
    private static void checkOutputs(JobSpec spec, Sequential model, JobData data) {
        int outputs = model.outputFeatures();
        int classes = data.train().classes();
        String loss = spec.getLoss();
        boolean ok = loss.equals("cross_entropy") ? outputs >= Math.max(2, classes)
                : outputs == 1 ? classes <= 2 : outputs >= classes;
        if (!ok) {
            String field = "model.layers";
            for (int i = spec.getModel().getLayersCount() - 1; i >= 0; i--) {
                if (spec.getModel().getLayers(i).hasLinear()) {
                    field = "model.layers[" + i + "].linear.out_features";
                    break;
                }
            }
            throw InvalidJobException.of(field, "the model has " + outputs + " output" + (outputs == 1 ? "" : "s")
                    + " but " + data.source() + " has " + classes + " classes; " + loss + " needs "
                    + (loss.equals("cross_entropy") ? "at least one output per class" : "one output for two classes, "
                    + "or one per class"));
        }
    }

    // ---- loss, optimizer, schedule, clipping --------------------------------------------------

    /**
     * The job's loss with {@code reduction}: a worker sums over its rows ({@code SUM}) so the
     * coordinator can divide by the global batch; one process uses PyTorch's {@code MEAN}.
     */
    public Loss loss(Loss.Reduction reduction) {
        return switch (spec.getLoss()) {
            case "cross_entropy" -> new CrossEntropyLoss(reduction);
            case "bce_with_logits" -> new BinaryCrossEntropyWithLogitsLoss(reduction);
            case "bce" -> new BinaryCrossEntropyLoss(reduction);
            case "mse" -> new MeanSquaredErrorLoss(reduction);
            default -> throw new IllegalStateException("validated loss: " + spec.getLoss());
        };
    }

    /**
     * The job's optimizer for {@code model}'s parameter layout (a model from {@link #buildModel}):
     * frozen layers get no update, {@code lr_scales} scale their layers' rate, and with
     * {@code no_weight_decay_on_bias_and_norm} 1-dimensional tensors get no decay.
     */
    public Optimizer optimizer(Sequential model) {
        ModelSpec m = spec.getModel();
        ParameterGroups groups = ParameterGroups.of(model);
        if (m.getNoWeightDecayOnBiasAndNorm()) {
            groups = groups.withoutWeightDecay(ParameterGroups.oneDimensional());
        }
        for (Map.Entry<Integer, Double> e : m.getLrScalesMap().entrySet()) {
            groups = groups.withLearningRateScale(ParameterGroups.layers(e.getKey()), e.getValue());
        }
        Optimizer optimizer = Optimizers.create(spec.getOptimizer().getName(),
                OptimizerHyperparameters.toMap(spec.getOptimizer()), groups);
        optimizer.setSkipNonFiniteSteps(spec.getOptimizer().getSkipNonFinite());
        return optimizer;
    }

    /** The learning rate per {@link #granularity()} count, starting from the optimizer's lr. */
    public LearningRateSchedule schedule() {
        return schedule;
    }

    /** Whether the schedule counts epochs or optimizer steps. */
    public LearningRateSchedule.Granularity granularity() {
        return spec.getSchedule().getGranularity().equals("step") ? LearningRateSchedule.Granularity.STEP
                : LearningRateSchedule.Granularity.EPOCH;
    }

    private LearningRateSchedule buildSchedule() {
        ScheduleSpec s = spec.getSchedule();
        long counts = granularity() == LearningRateSchedule.Granularity.EPOCH ? spec.getEpochs()
                : stepsPerEpoch() * (long) spec.getEpochs();
        LearningRateSchedule base = switch (s.getType().isEmpty() ? "constant" : s.getType()) {
            case "constant" -> new ConstantSchedule(learningRate);
            case "inverse_time" -> new InverseTimeDecay(learningRate, s.getDecay());
            case "exponential" -> new ExponentialDecay(learningRate, s.getGamma());
            case "inverse_sqrt" -> new InverseSquareRootDecay(learningRate, s.getK());
            case "step" -> new StepDecay(learningRate, s.getStepSize(), s.hasGamma() ? s.getGamma() : 0.1);
            case "cosine" -> new CosineAnnealing(learningRate,
                    s.hasTMax() ? s.getTMax() : Math.max(1, counts - s.getWarmup()), s.getEtaMin());
            default -> throw new IllegalStateException("validated schedule: " + s.getType());
        };
        return s.getWarmup() > 0 ? base.withWarmup(s.getWarmup(),
                s.hasWarmupStartFactor() ? s.getWarmupStartFactor() : DEFAULT_WARMUP_START_FACTOR) : base;
    }

    /** Gradient clipping before each optimizer step. */
    public GradientClipping clipping() {
        return switch (spec.getClipping().getKindCase()) {
            case MAX_NORM -> GradientClipping.byGlobalNorm(spec.getClipping().getMaxNorm());
            case CLIP_VALUE -> GradientClipping.byValue(spec.getClipping().getClipValue());
            default -> GradientClipping.none();
        };
    }

    // ---- data and loop settings ---------------------------------------------------------------

    /** The normalised training set. */
    public Dataset train() {
        return data.train();
    }

    /** The normalised validation set, if the job has one. */
    public Optional<Dataset> validation() {
        return Optional.ofNullable(data.validation());
    }

    /**
     * One line on the data as read, for the job's user: rows, features (a CSV's by name, so that
     * a column that should have been left out shows) and classes.
     */
    public String dataSummary() {
        DataSource train = spec.getData().getTrain();
        String source = switch (train.getKindCase()) {
            case CSV -> train.getCsv().getPath();
            case IDX -> train.getIdx().getImages();
            case IMAGE_FOLDER -> train.getImageFolder().getPath();
            default -> "?";
        };
        List<String> columns = data.input().columns();
        String features = data.train().width() + " features" + (columns.isEmpty() ? ""
                : " (" + String.join(", ", columns.size() <= 12 ? columns : columns.subList(0, 10))
                        + (columns.size() <= 12 ? "" : ", … " + (columns.size() - 10) + " more") + ")");
        return "data: " + source + " — " + data.train().rows() + " training rows, "
                + (data.validation() == null ? "no validation" : data.validation().rows() + " validation rows") + ", "
                + features + ", " + data.train().classes() + " classes";
    }

    /**
     * Where the {@code init_from} model was trained on inputs prepared otherwise than this job's
     * (normalisation, columns, pixels) or, loaded whole, on other classes: one sentence each, to
     * tell the job's user; empty without {@code init_from} or without such differences.
     */
    public List<String> initFromNotes() {
        if (initFrom == null) {
            return List.of();
        }
        ModelSpec m = spec.getModel();
        // the output layer is loaded when every layer with weights is (an activation may follow it)
        int lastWithWeights = -1;
        for (int i = 0; i < m.getLayersCount(); i++) {
            LayerSpec l = m.getLayers(i);
            if (l.hasLinear() || l.hasBatchNorm()) {
                lastWithWeights = i;
            }
        }
        boolean whole = !m.hasInitFromLayers() || m.getInitFromLayers() > lastWithWeights;
        return InitFromNotes.of(initFrom, preprocessing(), whole);
    }

    /**
     * What a job's watchers should hear as it starts: {@link #initFromNotes()}, and settings that
     * are valid but likely not what was meant — a cross-entropy model with more outputs than the
     * data has classes (allowed, as in PyTorch: the extra outputs never are a label, and the model
     * file names only the classes), a warm-up as long as the run or longer (the schedule after it
     * never starts), a model whose layers with weights are all frozen (nothing trains), a batch
     * larger than the data and more workers than a step has rows.
     */
    public List<String> startNotes() {
        List<String> notes = new java.util.ArrayList<>(initFromNotes());
        int classes = data.train().classes();
        int outputs = inputFeatures;
        for (LayerSpec l : spec.getModel().getLayersList()) {
            if (l.hasLinear()) {
                outputs = l.getLinear().getOutFeatures(); // every other layer keeps the width
            }
        }
        if (spec.getLoss().equals("cross_entropy") && outputs > Math.max(2, classes)) {
            notes.add("the model has " + outputs + " outputs for " + classes + " classes: outputs " + classes + " to "
                    + (outputs - 1) + " stand for no class in the data (the model file it writes names only these "
                    + classes + " classes)");
        }
        ScheduleSpec sched = spec.getSchedule();
        long counts = granularity() == LearningRateSchedule.Granularity.EPOCH ? spec.getEpochs()
                : stepsPerEpoch() * (long) spec.getEpochs();
        if (sched.getWarmup() > 0 && sched.getWarmup() >= counts) {
            String unit = granularity() == LearningRateSchedule.Granularity.EPOCH ? "epochs" : "steps";
            notes.add("schedule.warmup is " + sched.getWarmup() + " " + unit + " and the run has " + counts
                    + ": the learning rate only warms up, and the schedule after it never starts");
        }
        int rows = data.train().rows();
        if (batchSize() > rows) {
            notes.add(String.format(java.util.Locale.ROOT, "batch_size %,d is more than the %,d training rows: each "
                    + "epoch is one step over all of them", batchSize(), rows));
        }
        if (spec.getWorkers() > Math.min(batchSize(), rows)) {
            notes.add(String.format(java.util.Locale.ROOT, "workers %d: a step of %,d rows gives rows to %,d of them at "
                    + "most; the others wait", spec.getWorkers(), Math.min(batchSize(), rows), Math.min(batchSize(), rows)));
        }
        ModelSpec m = spec.getModel();
        java.util.Set<Integer> frozen = new java.util.HashSet<>(m.getFrozenLayersList());
        boolean anyWeights = false;
        boolean anyTrainable = false;
        for (int i = 0; i < m.getLayersCount(); i++) {
            if (JobValidator.hasParameters(m.getLayers(i))) {
                anyWeights = true;
                anyTrainable |= !frozen.contains(i);
            }
        }
        if (anyWeights && !anyTrainable) {
            notes.add("every layer with weights is frozen (model.frozen_layers): training changes no weight");
        }
        notes.addAll(frozenLayerNotes());
        return notes;
    }

    /**
     * For a model with frozen layers: how many parameters train and how many do not; a frozen
     * layer that init_from does not load (it keeps its random start: an index one past
     * init_from_layers, a count, is an easy slip); a frozen layer given an lr scale (it changes
     * nothing).
     */
    private List<String> frozenLayerNotes() {
        ModelSpec m = spec.getModel();
        if (m.getFrozenLayersCount() == 0) {
            return List.of();
        }
        java.util.Set<Integer> frozen = new java.util.TreeSet<>(m.getFrozenLayersList());
        List<String> notes = new ArrayList<>();
        long trainable = 0;
        long fixed = 0;
        long[] counts = MemoryBudget.parametersPerLayer(m, inputFeatures);
        for (int i = 0; i < counts.length; i++) {
            if (frozen.contains(i)) {
                fixed += counts[i];
            } else {
                trainable += counts[i];
            }
        }
        notes.add(String.format(java.util.Locale.ROOT, "frozen layers %s: %,d of the model's %,d parameters are "
                + "frozen, %,d train", frozen, fixed, fixed + trainable, trainable));
        String loads = m.getInitFrom().isEmpty() ? null
                : m.hasInitFromLayers() ? "init_from_layers " + m.getInitFromLayers() + " loads "
                        + (m.getInitFromLayers() == 1 ? "layer 0 only" : "layers 0 to " + (m.getInitFromLayers() - 1))
                : null;
        for (int i : frozen) {
            if (m.getInitFrom().isEmpty()) {
                notes.add("model.frozen_layers: layer " + i + " is frozen at its initial values (no init_from "
                        + "loads it)");
            } else if (m.hasInitFromLayers() && i >= m.getInitFromLayers()) {
                notes.add("model.frozen_layers: layer " + i + " is not loaded from init_from (" + loads + "): it is "
                        + "frozen at its initial values");
            }
        }
        for (int i : new java.util.TreeSet<>(m.getLrScalesMap().keySet())) {
            if (frozen.contains(i)) {
                notes.add("model.lr_scales: layer " + i + " is frozen; its lr scale changes nothing");
            }
        }
        return notes;
    }

    /** The class names, index = label (numbers as text for IDX files). */
    public List<String> classNames() {
        return data.classNames();
    }

    /**
     * What the trained model expects around it: how the rows were read, the normalisation fitted
     * on the training data and the class names; saved with the model so that it is usable on raw
     * data.
     */
    public Preprocessing preprocessing() {
        return new Preprocessing(data.input(), data.normalization(), data.classNames());
    }

    /** Features per input row. */
    public int inputFeatures() {
        return inputFeatures;
    }

    public int batchSize() {
        return spec.getBatchSize();
    }

    public int epochs() {
        return spec.getEpochs();
    }

    /** Optimizer steps per epoch: ⌈training rows / batch size⌉ (the last batch may be smaller). */
    public long stepsPerEpoch() {
        return (data.train().rows() + (long) spec.getBatchSize() - 1) / spec.getBatchSize();
    }

    public long seed() {
        return spec.getSeed();
    }

    /** Workers to use; 0 means every live worker. */
    public int workers() {
        return spec.getWorkers();
    }

    /** The job as given. */
    public JobSpec spec() {
        return spec;
    }

    /**
     * The same job with its worker count set to {@code workers}, sharing this plan's data (which
     * nothing writes after loading): single-node mode runs one job on all its workers without
     * reading the data set again.
     */
    public JobPlan withWorkers(int workers) {
        return new JobPlan(spec.toBuilder().setWorkers(workers).build(), data, initFrom, learningRate);
    }

    /** The loop settings for the single-process {@link io.parallax.engine.train.Trainer}. */
    public TrainingConfig trainingConfig() {
        return new TrainingConfig(epochs(), batchSize(), seed(), true, schedule, granularity(), clipping());
    }
}
