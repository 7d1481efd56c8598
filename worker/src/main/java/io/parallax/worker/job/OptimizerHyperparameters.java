package io.parallax.worker.job;

import com.google.protobuf.Descriptors.FieldDescriptor;
import io.parallax.engine.optim.Optimizers;
import io.parallax.proto.v1.OptimizerSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The hyperparameter fields of {@link OptimizerSpec}: which optimizer has which (as
 * {@link Optimizers#create} reads them), their valid ranges (those of torch.optim and of the
 * engine's builders), and the {@code torch.optim}-named map the engine's factory takes. The proto
 * field names are the torch.optim keyword names, so the table is keyed by them.
 */
final class OptimizerHyperparameters {

    /** How a value is checked. */
    private enum Range { POSITIVE, NON_NEGATIVE, NON_POSITIVE, UNIT_CLOSED, BOOLEAN, BETAS }

    private record Rule(Range range, Set<String> optimizers) {}

    private static final Set<String> ADAM_LIKE = Set.of("adam", "adamw", "adamax", "nadam");
    private static final Set<String> WITH_EPS = Set.of("adam", "adamw", "adamax", "nadam", "adagrad", "adadelta",
            "rmsprop");

    private static final Map<String, Rule> RULES = rules();

    private OptimizerHyperparameters() {}

    private static Map<String, Rule> rules() {
        Map<String, Rule> r = new LinkedHashMap<>();
        // >= 0 as in torch.optim; ftrl's builder refuses 0, which its update divides by
        r.put("lr", new Rule(Range.NON_NEGATIVE, Set.copyOf(Optimizers.NAMES)));
        r.put("momentum", new Rule(Range.NON_NEGATIVE, Set.of("sgd", "rmsprop")));
        r.put("dampening", new Rule(Range.UNIT_CLOSED, Set.of("sgd")));
        r.put("nesterov", new Rule(Range.BOOLEAN, Set.of("sgd")));
        r.put("weight_decay", new Rule(Range.NON_NEGATIVE, Set.of("sgd", "adam", "adamw", "adagrad", "adadelta",
                "rmsprop", "adamax", "nadam")));
        r.put("betas", new Rule(Range.BETAS, ADAM_LIKE));
        r.put("eps", new Rule(Range.POSITIVE, WITH_EPS));
        r.put("amsgrad", new Rule(Range.BOOLEAN, Set.of("adam", "adamw")));
        r.put("alpha", new Rule(Range.UNIT_CLOSED, Set.of("rmsprop")));
        r.put("centered", new Rule(Range.BOOLEAN, Set.of("rmsprop")));
        r.put("rho", new Rule(Range.UNIT_CLOSED, Set.of("adadelta")));
        r.put("lr_decay", new Rule(Range.NON_NEGATIVE, Set.of("adagrad")));
        r.put("initial_accumulator_value", new Rule(Range.NON_NEGATIVE, Set.of("adagrad", "ftrl")));
        r.put("momentum_decay", new Rule(Range.NON_NEGATIVE, Set.of("nadam")));
        r.put("learning_rate_power", new Rule(Range.NON_POSITIVE, Set.of("ftrl")));
        r.put("l1_regularization_strength", new Rule(Range.NON_NEGATIVE, Set.of("ftrl")));
        r.put("l2_regularization_strength", new Rule(Range.NON_NEGATIVE, Set.of("ftrl")));
        r.put("l2_shrinkage_regularization_strength", new Rule(Range.NON_NEGATIVE, Set.of("ftrl")));
        r.put("beta", new Rule(Range.NON_NEGATIVE, Set.of("ftrl")));
        return r;
    }

    /**
     * Checks every hyperparameter that is set: that {@code name} (a known optimizer) has it, and
     * its range. Errors are named {@code optimizer.<field>}.
     */
    static void check(OptimizerSpec spec, String name, Errors errors) {
        for (Map.Entry<String, Rule> e : RULES.entrySet()) {
            String key = e.getKey();
            FieldDescriptor fd = field(key);
            boolean set = fd.isRepeated() ? spec.getRepeatedFieldCount(fd) > 0 : spec.hasField(fd);
            if (!set) {
                continue;
            }
            String path = "optimizer." + key;
            if (!e.getValue().optimizers().contains(name)) {
                errors.add(path, name + " has no hyperparameter '" + key + "'; its hyperparameters: " + keysOf(name));
                continue;
            }
            switch (e.getValue().range()) {
                case POSITIVE -> errors.positive(path, (Double) spec.getField(fd));
                case NON_NEGATIVE -> errors.nonNegative(path, (Double) spec.getField(fd));
                case NON_POSITIVE -> errors.nonPositive(path, (Double) spec.getField(fd));
                case UNIT_CLOSED -> errors.unitClosed(path, (Double) spec.getField(fd));
                case BOOLEAN -> { }
                case BETAS -> {
                    if (spec.getBetasCount() != 2) {
                        errors.add(path, "must be two numbers (β₁, β₂), got " + spec.getBetasCount());
                    } else {
                        errors.unitOpen(path + "[0]", spec.getBetas(0));
                        errors.unitOpen(path + "[1]", spec.getBetas(1));
                    }
                }
                default -> throw new IllegalStateException("unhandled range " + e.getValue().range());
            }
        }
        if (name.equals("ftrl") && spec.hasLr() && spec.getLr() == 0) {
            errors.add("optimizer.lr", "must be > 0 for ftrl, whose update divides by it, got 0");
        }
    }

    /** The hyperparameters that are set, keyed by their torch.optim names, for {@link Optimizers#create}. */
    static Map<String, Object> toMap(OptimizerSpec spec) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (String key : RULES.keySet()) {
            FieldDescriptor fd = field(key);
            if (fd.isRepeated()) {
                if (spec.getRepeatedFieldCount(fd) > 0) {
                    map.put(key, List.copyOf(spec.getBetasList()));
                }
            } else if (spec.hasField(fd)) {
                map.put(key, spec.getField(fd));
            }
        }
        return map;
    }

    private static Set<String> keysOf(String optimizer) {
        Set<String> keys = new TreeSet<>();
        RULES.forEach((k, r) -> {
            if (r.optimizers().contains(optimizer)) {
                keys.add(k);
            }
        });
        return keys;
    }

    private static FieldDescriptor field(String key) {
        FieldDescriptor fd = OptimizerSpec.getDescriptor().findFieldByName(key);
        if (fd == null) {
            throw new IllegalStateException("job.proto's OptimizerSpec has no field " + key);
        }
        return fd;
    }
}
