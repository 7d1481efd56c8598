package io.parallax.engine.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Builds an optimizer from its name and hyperparameters spelled as in {@code torch.optim}
 * ({@code lr}, {@code betas}, {@code weight_decay}, …; FTRL as in Keras), the form job files
 * and the command line use. Anything not given takes the PyTorch default; an unknown name or
 * hyperparameter is rejected with the valid ones listed.
 */
public final class Optimizers {

    /** Every optimizer name {@link #create} understands. */
    public static final List<String> NAMES = List.of("sgd", "adam", "adamw", "adagrad", "adadelta", "rmsprop",
            "adamax", "nadam", "ftrl");

    /** The learning rate used for SGD when none is given (torch.optim.SGD has no default). */
    public static final double SGD_DEFAULT_LR = 0.01;

    private Optimizers() {}

    /**
     * @param name            one of {@link #NAMES} (case-insensitive)
     * @param hyperparameters numbers, booleans ({@code nesterov}, {@code amsgrad},
     *                        {@code centered}) and {@code betas} as a two-element list
     */
    public static Optimizer create(String name, Map<String, ?> hyperparameters, ParameterGroups groups) {
        Hyperparameters h = new Hyperparameters(name, hyperparameters);
        Optimizer built = switch (name == null ? "" : name.toLowerCase(Locale.ROOT)) {
            case "sgd" -> h.done(SGD.builder(h.number("lr", SGD_DEFAULT_LR)).momentum(h.number("momentum", 0))
                    .dampening(h.number("dampening", 0)).weightDecay(h.number("weight_decay", 0))
                    .nesterov(h.bool("nesterov", false)).build(groups));
            case "adam" -> {
                Adam.Builder b = Adam.builder();
                h.ifNumber("lr", b::lr);
                h.ifBetas(b::betas);
                h.ifNumber("eps", b::eps);
                h.ifNumber("weight_decay", b::weightDecay);
                b.amsgrad(h.bool("amsgrad", false));
                yield h.done(b.build(groups));
            }
            case "adamw" -> {
                AdamW.Builder b = AdamW.builder();
                h.ifNumber("lr", b::lr);
                h.ifBetas(b::betas);
                h.ifNumber("eps", b::eps);
                h.ifNumber("weight_decay", b::weightDecay);
                b.amsgrad(h.bool("amsgrad", false));
                yield h.done(b.build(groups));
            }
            case "adagrad" -> {
                Adagrad.Builder b = Adagrad.builder();
                h.ifNumber("lr", b::lr);
                h.ifNumber("lr_decay", b::lrDecay);
                h.ifNumber("weight_decay", b::weightDecay);
                h.ifNumber("initial_accumulator_value", b::initialAccumulatorValue);
                h.ifNumber("eps", b::eps);
                yield h.done(b.build(groups));
            }
            case "adadelta" -> {
                Adadelta.Builder b = Adadelta.builder();
                h.ifNumber("lr", b::lr);
                h.ifNumber("rho", b::rho);
                h.ifNumber("eps", b::eps);
                h.ifNumber("weight_decay", b::weightDecay);
                yield h.done(b.build(groups));
            }
            case "rmsprop" -> {
                RMSprop.Builder b = RMSprop.builder();
                h.ifNumber("lr", b::lr);
                h.ifNumber("alpha", b::alpha);
                h.ifNumber("eps", b::eps);
                h.ifNumber("weight_decay", b::weightDecay);
                h.ifNumber("momentum", b::momentum);
                b.centered(h.bool("centered", false));
                yield h.done(b.build(groups));
            }
            case "adamax" -> {
                Adamax.Builder b = Adamax.builder();
                h.ifNumber("lr", b::lr);
                h.ifBetas(b::betas);
                h.ifNumber("eps", b::eps);
                h.ifNumber("weight_decay", b::weightDecay);
                yield h.done(b.build(groups));
            }
            case "nadam" -> {
                NAdam.Builder b = NAdam.builder();
                h.ifNumber("lr", b::lr);
                h.ifBetas(b::betas);
                h.ifNumber("eps", b::eps);
                h.ifNumber("weight_decay", b::weightDecay);
                h.ifNumber("momentum_decay", b::momentumDecay);
                yield h.done(b.build(groups));
            }
            case "ftrl" -> {
                Ftrl.Builder b = Ftrl.builder();
                h.ifNumber("lr", b::learningRate);
                h.ifNumber("learning_rate", b::learningRate);
                h.ifNumber("learning_rate_power", b::learningRatePower);
                h.ifNumber("initial_accumulator_value", b::initialAccumulatorValue);
                h.ifNumber("l1_regularization_strength", b::l1RegularizationStrength);
                h.ifNumber("l2_regularization_strength", b::l2RegularizationStrength);
                h.ifNumber("l2_shrinkage_regularization_strength", b::l2ShrinkageRegularizationStrength);
                h.ifNumber("beta", b::beta);
                yield h.done(b.build(groups));
            }
            default -> throw new IllegalArgumentException("unknown optimizer '" + name + "'; known: " + NAMES);
        };
        return built;
    }

    /** Typed reads of the hyperparameter map that remember which keys were used. */
    private static final class Hyperparameters {
        private final String optimizer;
        private final Map<String, Object> values = new LinkedHashMap<>();
        private final Set<String> used = new java.util.HashSet<>();

        Hyperparameters(String optimizer, Map<String, ?> values) {
            this.optimizer = optimizer;
            if (values != null) {
                this.values.putAll(values);
            }
        }

        double number(String key, double fallback) {
            used.add(key);
            Object v = values.get(key);
            if (v == null) {
                return fallback;
            }
            if (!(v instanceof Number n)) {
                throw new IllegalArgumentException(optimizer + " hyperparameter '" + key + "' must be a number, got " + v);
            }
            return n.doubleValue();
        }

        void ifNumber(String key, java.util.function.DoubleConsumer setter) {
            used.add(key);
            if (values.get(key) != null) {
                setter.accept(number(key, 0));
            }
        }

        void ifBetas(BetaSetter setter) {
            used.add("betas");
            Object v = values.get("betas");
            if (v == null) {
                return;
            }
            if (!(v instanceof List<?> list) || list.size() != 2 || !(list.get(0) instanceof Number b1)
                    || !(list.get(1) instanceof Number b2)) {
                throw new IllegalArgumentException(optimizer + " hyperparameter 'betas' must be two numbers, got " + v);
            }
            setter.set(b1.doubleValue(), b2.doubleValue());
        }

        boolean bool(String key, boolean fallback) {
            used.add(key);
            Object v = values.get(key);
            if (v == null) {
                return fallback;
            }
            if (!(v instanceof Boolean b)) {
                throw new IllegalArgumentException(optimizer + " hyperparameter '" + key + "' must be true or false, got " + v);
            }
            return b;
        }

        /** Rejects keys the optimizer does not have (a typo must not silently keep a default). */
        <T> T done(T optimizerBuilt) {
            for (String key : values.keySet()) {
                if (!used.contains(key)) {
                    throw new IllegalArgumentException(optimizer + " has no hyperparameter '" + key + "'; its hyperparameters: "
                            + used.stream().sorted().toList());
                }
            }
            return optimizerBuilt;
        }
    }

    @FunctionalInterface
    private interface BetaSetter {
        void set(double beta1, double beta2);
    }
}
