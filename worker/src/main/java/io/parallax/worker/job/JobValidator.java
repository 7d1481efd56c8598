package io.parallax.worker.job;

import io.parallax.engine.optim.Optimizers;
import io.parallax.engine.optim.ParameterGroups;
import io.parallax.proto.v1.ActivationLayer;
import io.parallax.proto.v1.BatchNormLayer;
import io.parallax.proto.v1.ClippingSpec;
import io.parallax.proto.v1.DataSource;
import io.parallax.proto.v1.DataSpec;
import io.parallax.proto.v1.ImageFolderSource;
import io.parallax.proto.v1.JobSpec;
import io.parallax.proto.v1.LayerSpec;
import io.parallax.proto.v1.LinearLayer;
import io.parallax.proto.v1.ModelSpec;
import io.parallax.proto.v1.OptimizerSpec;
import io.parallax.proto.v1.ScheduleSpec;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks every field of a {@link JobSpec} before anything runs and reports all problems at once,
 * each named by its field path ({@code optimizer.lr: must be ≥ 0, got -1},
 * {@code model.layers[2].dropout.p: must be in [0, 1), got 1.5}). It reads no data: what only the
 * data can tell (a missing file, a label column that is not there, the data's width against the
 * first layer) is checked by {@link JobPlan#load}. It does check that every path lies under the
 * data roots.
 */
public final class JobValidator {

    /** Loss names, as {@code JobSpec.loss} spells them. */
    public static final List<String> LOSSES = List.of("cross_entropy", "bce_with_logits", "bce", "mse");
    /** Activation names, as {@code ActivationLayer.type} spells them. */
    public static final List<String> ACTIVATIONS = List.of("relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax",
            "swish", "identity", "binary_step");
    /** Weight initialisers of a linear layer. */
    public static final List<String> WEIGHT_INITS = List.of("default", "xavier_uniform", "xavier_normal",
            "kaiming_uniform", "kaiming_normal", "zeros", "ones");
    /** Schedule types. */
    public static final List<String> SCHEDULES = List.of("constant", "inverse_time", "exponential", "inverse_sqrt",
            "step", "cosine");
    /** Normalisations. */
    public static final List<String> NORMALIZATIONS = List.of("none", "min_max", "standardize");

    /** Bounds that keep one job from asking a node for unbounded memory. */
    public static final int MAX_BATCH_SIZE = 1 << 20;
    public static final int MAX_WIDTH = 1 << 20;
    static final int MAX_IMAGE_SIDE = 4096;
    /** Workers one job may ask for; each holds a replica of the model. */
    public static final int MAX_WORKERS = 1024;

    private JobValidator() {}

    /** Every problem with {@code spec}; empty when it may run. */
    public static List<FieldError> validate(JobSpec spec, DataRoots roots) {
        Errors errors = new Errors();
        validate(spec, roots, errors);
        return errors.list();
    }

    /** @throws InvalidJobException listing every problem, if there is one */
    public static void check(JobSpec spec, DataRoots roots) {
        Errors errors = new Errors();
        validate(spec, roots, errors);
        errors.throwIfAny();
    }

    private static void validate(JobSpec spec, DataRoots roots, Errors errors) {
        if (spec.hasModel()) {
            model(spec.getModel(), roots, errors);
        } else {
            errors.add("model", "a model is required");
        }
        if (spec.getLoss().isEmpty()) {
            errors.add("loss", "a loss is required; one of " + LOSSES);
        } else if (!LOSSES.contains(spec.getLoss())) {
            errors.add("loss", "unknown loss '" + spec.getLoss() + "'; known: " + LOSSES);
        } else if (spec.getLoss().equals("bce") && !endsInSigmoid(spec.getModel())) {
            errors.add("loss", "bce takes probabilities: end the model with a sigmoid activation, or use "
                    + "bce_with_logits on the raw outputs");
        }
        double lr = spec.hasOptimizer() ? optimizer(spec.getOptimizer(), errors) : Double.NaN;
        if (!spec.hasOptimizer()) {
            errors.add("optimizer", "an optimizer is required");
        }
        if (spec.hasSchedule()) {
            schedule(spec.getSchedule(), lr, errors);
        }
        if (spec.hasClipping()) {
            clipping(spec.getClipping(), errors);
        }
        if (spec.hasData()) {
            data(spec.getData(), roots, errors);
        } else {
            errors.add("data", "data is required: at least a training source");
        }
        if (spec.getName().codePoints().anyMatch(Character::isISOControl)) {
            // status and watch print it: a control character could rewrite the terminal's lines
            errors.add("name", "must not hold control characters (tab, newline, escape, …)");
        }
        errors.atLeast("batch_size", 1, spec.getBatchSize());
        errors.atMost("batch_size", MAX_BATCH_SIZE, spec.getBatchSize());
        errors.atLeast("epochs", 1, spec.getEpochs());
        errors.atLeast("workers", 0, spec.getWorkers());
        errors.atMost("workers", MAX_WORKERS, spec.getWorkers());
    }

    // ---- model ------------------------------------------------------------------------------

    private static void model(ModelSpec m, DataRoots roots, Errors errors) {
        // width flowing into the next layer; 0 while unknown (inferred from the data later)
        long width = 0;
        String widthFrom = "model.input_features";
        if (m.hasInputFeatures()) {
            errors.atLeast("model.input_features", 1, m.getInputFeatures());
            errors.atMost("model.input_features", MAX_WIDTH, m.getInputFeatures());
            width = Math.max(0, m.getInputFeatures());
        }
        int n = m.getLayersCount();
        if (n == 0) {
            errors.add("model.layers", "at least one layer is required");
        }
        for (int i = 0; i < n; i++) {
            String path = "model.layers[" + i + "]";
            LayerSpec layer = m.getLayers(i);
            switch (layer.getKindCase()) {
                case LINEAR -> {
                    LinearLayer l = layer.getLinear();
                    errors.atLeast(path + ".linear.out_features", 1, l.getOutFeatures());
                    errors.atMost(path + ".linear.out_features", MAX_WIDTH, l.getOutFeatures());
                    if (l.hasInFeatures()) {
                        errors.atLeast(path + ".linear.in_features", 1, l.getInFeatures());
                        if (width > 0 && l.getInFeatures() > 0 && l.getInFeatures() != width) {
                            errors.add(path + ".linear.in_features", l.getInFeatures() + " does not match the width "
                                    + width + " from " + widthFrom);
                        }
                    }
                    if (!l.getWeightInit().isEmpty() && !WEIGHT_INITS.contains(l.getWeightInit())) {
                        errors.add(path + ".linear.weight_init", "unknown initialiser '" + l.getWeightInit()
                                + "'; known: " + WEIGHT_INITS);
                    }
                    width = Math.max(0, l.getOutFeatures());
                    widthFrom = path + ".linear.out_features";
                }
                case ACTIVATION -> activation(layer.getActivation(), path + ".activation", errors);
                case DROPOUT -> {
                    if (layer.getDropout().hasP()) {
                        errors.unitOpen(path + ".dropout.p", layer.getDropout().getP());
                    }
                }
                case BATCH_NORM -> {
                    BatchNormLayer b = layer.getBatchNorm();
                    if (b.hasEps()) {
                        errors.positive(path + ".batch_norm.eps", b.getEps());
                    }
                    if (b.hasMomentum()) {
                        errors.unitClosed(path + ".batch_norm.momentum", b.getMomentum());
                    }
                }
                case KIND_NOT_SET -> errors.add(path, "a layer needs exactly one of linear, activation, dropout, "
                        + "batch_norm");
                default -> throw new IllegalStateException("unhandled layer kind " + layer.getKindCase());
            }
        }
        Set<Integer> seen = new HashSet<>();
        for (int k = 0; k < m.getFrozenLayersCount(); k++) {
            int i = m.getFrozenLayers(k);
            String path = "model.frozen_layers[" + k + "]";
            if (!seen.add(i)) {
                errors.add(path, "layer " + i + " is listed twice");
            } else {
                layerWithParameters(m, i, path, "freeze", errors);
            }
        }
        for (Map.Entry<Integer, Double> e : m.getLrScalesMap().entrySet()) {
            String path = "model.lr_scales[" + e.getKey() + "]";
            layerWithParameters(m, e.getKey(), path, "scale the learning rate of", errors);
            errors.positive(path, e.getValue());
        }
        if (!m.getInitFrom().isEmpty()) {
            path("model.init_from", m.getInitFrom(), roots, errors);
        }
        if (m.hasInitFromLayers()) {
            if (m.getInitFrom().isEmpty()) {
                errors.add("model.init_from_layers", "needs model.init_from, the file to load the layers from");
            } else if (m.getInitFromLayers() < 1 || m.getInitFromLayers() > n) {
                errors.add("model.init_from_layers", "must be in [1, " + n + "] (the model's layer count), got "
                        + m.getInitFromLayers());
            }
        }
    }

    private static void activation(ActivationLayer a, String path, Errors errors) {
        String type = a.getType();
        if (type.isEmpty()) {
            errors.add(path + ".type", "an activation type is required; one of " + ACTIVATIONS);
        } else if (!ACTIVATIONS.contains(type)) {
            errors.add(path + ".type", "unknown activation '" + type + "'; known: " + ACTIVATIONS);
        }
        if (a.hasNegativeSlope()) {
            if (!type.equals("leaky_relu")) {
                errors.add(path + ".negative_slope", "only leaky_relu has a negative_slope, not " + type);
            } else {
                errors.finite(path + ".negative_slope", a.getNegativeSlope());
            }
        }
        if (a.hasAlpha()) {
            if (!type.equals("elu")) {
                errors.add(path + ".alpha", "only elu has an alpha, not " + type);
            } else {
                errors.finite(path + ".alpha", a.getAlpha());
            }
        }
    }

    /** Whether the layer has parameters: a linear layer, or an affine batch norm (the default). */
    static boolean hasParameters(LayerSpec l) {
        return l.hasLinear() || (l.hasBatchNorm() && (!l.getBatchNorm().hasAffine() || l.getBatchNorm().getAffine()));
    }

    private static void layerWithParameters(ModelSpec m, int i, String path, String what, Errors errors) {
        if (i < 0 || i >= m.getLayersCount()) {
            errors.add(path, "layer index " + i + " is outside [0, " + m.getLayersCount() + ")");
            return;
        }
        LayerSpec l = m.getLayers(i);
        if (!hasParameters(l)) {
            errors.add(path, "cannot " + what + " layer " + i + ": it has no parameters (" + l.getKindCase()
                    .name().toLowerCase(java.util.Locale.ROOT) + ")");
        }
    }

    private static boolean endsInSigmoid(ModelSpec m) {
        if (m.getLayersCount() == 0) {
            return true; // reported as a missing layer already
        }
        LayerSpec last = m.getLayers(m.getLayersCount() - 1);
        return last.hasActivation() && last.getActivation().getType().equals("sigmoid");
    }

    // ---- optimizer, schedule, clipping ---------------------------------------------------------

    /** Checks the optimizer; returns its learning rate when it is valid, else NaN. */
    private static double optimizer(OptimizerSpec o, Errors errors) {
        String name = o.getName();
        if (name.isEmpty()) {
            errors.add("optimizer.name", "an optimizer name is required; one of " + Optimizers.NAMES);
            return Double.NaN;
        }
        if (!Optimizers.NAMES.contains(name)) {
            errors.add("optimizer.name", "unknown optimizer '" + name + "'; known: " + Optimizers.NAMES);
            return Double.NaN;
        }
        int before = errors.size();
        OptimizerHyperparameters.check(o, name, errors);
        if (errors.size() > before) {
            return Double.NaN;
        }
        try {
            // the engine's builder has the last word (e.g. nesterov needs momentum > 0 and no dampening)
            return Optimizers.create(name, OptimizerHyperparameters.toMap(o), ParameterGroups.single(1)).learningRate();
        } catch (IllegalArgumentException e) {
            errors.add("optimizer", e.getMessage());
            return Double.NaN;
        }
    }

    private static void schedule(ScheduleSpec s, double lr, Errors errors) {
        String type = s.getType().isEmpty() ? "constant" : s.getType();
        if (!SCHEDULES.contains(type)) {
            errors.add("schedule.type", "unknown schedule '" + type + "'; known: " + SCHEDULES);
        } else {
            only(s.hasDecay(), "decay", type, Set.of("inverse_time"), errors);
            only(s.hasGamma(), "gamma", type, Set.of("exponential", "step"), errors);
            only(s.hasK(), "k", type, Set.of("inverse_sqrt"), errors);
            only(s.hasStepSize(), "step_size", type, Set.of("step"), errors);
            only(s.hasTMax(), "t_max", type, Set.of("cosine"), errors);
            only(s.hasEtaMin(), "eta_min", type, Set.of("cosine"), errors);
            required(type.equals("inverse_time") && !s.hasDecay(), "decay", type, errors);
            required(type.equals("exponential") && !s.hasGamma(), "gamma", type, errors);
            required(type.equals("inverse_sqrt") && !s.hasK(), "k", type, errors);
            required(type.equals("step") && !s.hasStepSize(), "step_size", type, errors);
        }
        if (s.hasDecay()) {
            errors.nonNegative("schedule.decay", s.getDecay());
        }
        if (s.hasGamma()) {
            errors.fraction("schedule.gamma", s.getGamma());
        }
        if (s.hasK()) {
            errors.positive("schedule.k", s.getK());
        }
        if (s.hasStepSize()) {
            errors.atLeast("schedule.step_size", 1, s.getStepSize());
        }
        if (s.hasTMax()) {
            errors.atLeast("schedule.t_max", 1, s.getTMax());
        }
        if (s.hasEtaMin()) {
            errors.nonNegative("schedule.eta_min", s.getEtaMin());
            if (s.getEtaMin() > lr) {
                errors.add("schedule.eta_min", "must not exceed the optimizer's lr " + Errors.format(lr) + ", got "
                        + Errors.format(s.getEtaMin()));
            }
        }
        errors.atLeast("schedule.warmup", 0, s.getWarmup());
        if (s.hasWarmupStartFactor()) {
            errors.fraction("schedule.warmup_start_factor", s.getWarmupStartFactor());
        }
        if (!s.getGranularity().isEmpty() && !s.getGranularity().equals("epoch") && !s.getGranularity().equals("step")) {
            errors.add("schedule.granularity", "must be 'epoch' or 'step', got '" + s.getGranularity() + "'");
        }
    }

    private static void only(boolean set, String field, String type, Set<String> types, Errors errors) {
        if (set && !types.contains(type)) {
            errors.add("schedule." + field, "a " + type + " schedule has no " + field + " (only " + types.stream()
                    .sorted().toList() + ")");
        }
    }

    private static void required(boolean missing, String field, String type, Errors errors) {
        if (missing) {
            errors.add("schedule." + field, "a " + type + " schedule needs " + field);
        }
    }

    private static void clipping(ClippingSpec c, Errors errors) {
        switch (c.getKindCase()) {
            case MAX_NORM -> errors.positive("clipping.max_norm", c.getMaxNorm());
            case CLIP_VALUE -> errors.positive("clipping.clip_value", c.getClipValue());
            case KIND_NOT_SET -> { }
            default -> throw new IllegalStateException("unhandled clipping " + c.getKindCase());
        }
    }

    // ---- data -------------------------------------------------------------------------------

    private static void data(DataSpec d, DataRoots roots, Errors errors) {
        if (d.hasTrain()) {
            source(d.getTrain(), "data.train", roots, errors);
        } else {
            errors.add("data.train", "a data source is required");
        }
        if (d.hasValidation()) {
            source(d.getValidation(), "data.validation", roots, errors);
        }
        if (d.hasValidationSplit()) {
            if (d.hasValidation()) {
                errors.add("data.validation_split", "give either a validation source or a validation_split, not both");
            } else if (!(d.getValidationSplit() > 0 && d.getValidationSplit() < 1)) {
                errors.add("data.validation_split", "must be in (0, 1), got " + Errors.format(d.getValidationSplit()));
            }
        }
        if (!d.getNormalization().isEmpty() && !NORMALIZATIONS.contains(d.getNormalization())) {
            errors.add("data.normalization", "unknown normalization '" + d.getNormalization() + "'; known: "
                    + NORMALIZATIONS);
        }
    }

    private static void source(DataSource s, String path, DataRoots roots, Errors errors) {
        switch (s.getKindCase()) {
            case IDX -> {
                path(path + ".idx.images", s.getIdx().getImages(), roots, errors);
                path(path + ".idx.labels", s.getIdx().getLabels(), roots, errors);
            }
            case CSV -> {
                path(path + ".csv.path", s.getCsv().getPath(), roots, errors);
                if (s.getCsv().getLabelColumn().isEmpty()) {
                    errors.add(path + ".csv.label_column", "the name of the label column is required");
                }
                java.util.Set<String> ignored = new java.util.HashSet<>();
                for (int i = 0; i < s.getCsv().getIgnoreColumnsCount(); i++) {
                    String column = s.getCsv().getIgnoreColumns(i);
                    String field = path + ".csv.ignore_columns[" + i + "]";
                    if (column.isEmpty()) {
                        errors.add(field, "a column name is required");
                    } else if (column.equals(s.getCsv().getLabelColumn())) {
                        errors.add(field, "'" + column + "' is the label column; it cannot be ignored too");
                    } else if (!ignored.add(column)) {
                        errors.add(field, "'" + column + "' is named twice");
                    }
                }
            }
            case IMAGE_FOLDER -> {
                ImageFolderSource f = s.getImageFolder();
                path(path + ".image_folder.path", f.getPath(), roots, errors);
                errors.atLeast(path + ".image_folder.width", 0, f.getWidth());
                errors.atMost(path + ".image_folder.width", MAX_IMAGE_SIDE, f.getWidth());
                errors.atLeast(path + ".image_folder.height", 0, f.getHeight());
                errors.atMost(path + ".image_folder.height", MAX_IMAGE_SIDE, f.getHeight());
                if ((f.getWidth() == 0) != (f.getHeight() == 0)) {
                    errors.add(path + ".image_folder." + (f.getWidth() == 0 ? "width" : "height"),
                            "give both width and height, or neither (to keep the images' own size)");
                }
            }
            case KIND_NOT_SET -> errors.add(path, "a data source needs exactly one of idx, csv, image_folder");
            default -> throw new IllegalStateException("unhandled data source " + s.getKindCase());
        }
    }

    /** A path must be given, be a path, and lie under the data roots. */
    private static void path(String field, String value, DataRoots roots, Errors errors) {
        if (value.isEmpty()) {
            errors.add(field, "a path is required");
            return;
        }
        Path p;
        try {
            p = roots.resolve(value);
        } catch (InvalidPathException e) {
            errors.add(field, "'" + value + "' is not a valid path: " + e.getReason());
            return;
        }
        if (!roots.contains(p)) {
            errors.add(field, p + " is outside the data roots " + roots + roots.adviceFor(p));
        }
    }
}
