package io.parallax.engine.optim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The reference traces of {@code optim/golden.json} (written by {@code make_golden.py}) and a
 * factory that builds our optimizer from a case's PyTorch/Keras hyperparameter names.
 */
final class GoldenCases {

    /** One case: the optimizer, its layout and the parameters expected after each step. */
    record Case(String name, JsonNode json, ParameterGroups groups, float[][] trace) {

        Optimizer build() {
            return GoldenCases.build(json.get("optimizer").asText(), json.get("hyper"), groups);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    final float[] params0;
    final float[][] grads;
    final List<Case> cases = new ArrayList<>();

    private GoldenCases(JsonNode root) {
        params0 = floats(root.get("params0"));
        grads = matrix(root.get("grads"));
        for (JsonNode c : root.get("cases")) {
            cases.add(new Case(c.get("name").asText(), c, groups(c.get("groups"), params0.length),
                    matrix(c.get("trace"))));
        }
    }

    static GoldenCases load() {
        try (InputStream in = GoldenCases.class.getResourceAsStream("/optim/golden.json")) {
            if (in == null) {
                throw new IllegalStateException("optim/golden.json is missing from the test resources");
            }
            return new GoldenCases(new ObjectMapper().readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ParameterGroups groups(JsonNode node, int size) {
        if (node == null) {
            return ParameterGroups.single(size);
        }
        ParameterGroups.Builder b = ParameterGroups.builder();
        for (int i = 0; i < node.size(); i++) {
            b.add("g" + i, node.get(i).get("length").asInt());
        }
        ParameterGroups groups = b.build();
        for (int i = 0; i < node.size(); i++) {
            JsonNode g = node.get(i);
            var only = ParameterGroups.named("g" + i);
            groups = groups.withLearningRateScale(only, g.get("lr_scale").asDouble());
            if (!g.get("weight_decay").asBoolean()) {
                groups = groups.withoutWeightDecay(only);
            }
            if (g.get("frozen").asBoolean()) {
                groups = groups.withFrozen(only);
            }
        }
        return groups;
    }

    static Optimizer build(String kind, JsonNode h, ParameterGroups groups) {
        switch (kind) {
            case "SGD": {
                SGD.Builder b = SGD.builder(h.get("lr").asDouble());
                if (h.has("momentum")) b.momentum(h.get("momentum").asDouble());
                if (h.has("dampening")) b.dampening(h.get("dampening").asDouble());
                if (h.has("nesterov")) b.nesterov(h.get("nesterov").asBoolean());
                if (h.has("weight_decay")) b.weightDecay(h.get("weight_decay").asDouble());
                return b.build(groups);
            }
            case "Adam": {
                Adam.Builder b = Adam.builder();
                if (h.has("lr")) b.lr(h.get("lr").asDouble());
                if (h.has("betas")) b.betas(h.get("betas").get(0).asDouble(), h.get("betas").get(1).asDouble());
                if (h.has("eps")) b.eps(h.get("eps").asDouble());
                if (h.has("weight_decay")) b.weightDecay(h.get("weight_decay").asDouble());
                if (h.has("amsgrad")) b.amsgrad(h.get("amsgrad").asBoolean());
                return b.build(groups);
            }
            case "AdamW": {
                AdamW.Builder b = AdamW.builder();
                if (h.has("lr")) b.lr(h.get("lr").asDouble());
                if (h.has("betas")) b.betas(h.get("betas").get(0).asDouble(), h.get("betas").get(1).asDouble());
                if (h.has("eps")) b.eps(h.get("eps").asDouble());
                if (h.has("weight_decay")) b.weightDecay(h.get("weight_decay").asDouble());
                if (h.has("amsgrad")) b.amsgrad(h.get("amsgrad").asBoolean());
                return b.build(groups);
            }
            case "Adagrad": {
                Adagrad.Builder b = Adagrad.builder();
                if (h.has("lr")) b.lr(h.get("lr").asDouble());
                if (h.has("lr_decay")) b.lrDecay(h.get("lr_decay").asDouble());
                if (h.has("weight_decay")) b.weightDecay(h.get("weight_decay").asDouble());
                if (h.has("initial_accumulator_value")) {
                    b.initialAccumulatorValue(h.get("initial_accumulator_value").asDouble());
                }
                if (h.has("eps")) b.eps(h.get("eps").asDouble());
                return b.build(groups);
            }
            case "Adadelta": {
                Adadelta.Builder b = Adadelta.builder();
                if (h.has("lr")) b.lr(h.get("lr").asDouble());
                if (h.has("rho")) b.rho(h.get("rho").asDouble());
                if (h.has("eps")) b.eps(h.get("eps").asDouble());
                if (h.has("weight_decay")) b.weightDecay(h.get("weight_decay").asDouble());
                return b.build(groups);
            }
            case "RMSprop": {
                RMSprop.Builder b = RMSprop.builder();
                if (h.has("lr")) b.lr(h.get("lr").asDouble());
                if (h.has("alpha")) b.alpha(h.get("alpha").asDouble());
                if (h.has("eps")) b.eps(h.get("eps").asDouble());
                if (h.has("weight_decay")) b.weightDecay(h.get("weight_decay").asDouble());
                if (h.has("momentum")) b.momentum(h.get("momentum").asDouble());
                if (h.has("centered")) b.centered(h.get("centered").asBoolean());
                return b.build(groups);
            }
            case "Adamax": {
                Adamax.Builder b = Adamax.builder();
                if (h.has("lr")) b.lr(h.get("lr").asDouble());
                if (h.has("betas")) b.betas(h.get("betas").get(0).asDouble(), h.get("betas").get(1).asDouble());
                if (h.has("eps")) b.eps(h.get("eps").asDouble());
                if (h.has("weight_decay")) b.weightDecay(h.get("weight_decay").asDouble());
                return b.build(groups);
            }
            case "NAdam": {
                NAdam.Builder b = NAdam.builder();
                if (h.has("lr")) b.lr(h.get("lr").asDouble());
                if (h.has("betas")) b.betas(h.get("betas").get(0).asDouble(), h.get("betas").get(1).asDouble());
                if (h.has("eps")) b.eps(h.get("eps").asDouble());
                if (h.has("weight_decay")) b.weightDecay(h.get("weight_decay").asDouble());
                if (h.has("momentum_decay")) b.momentumDecay(h.get("momentum_decay").asDouble());
                return b.build(groups);
            }
            case "Ftrl": {
                Ftrl.Builder b = Ftrl.builder();
                if (h.has("learning_rate")) b.learningRate(h.get("learning_rate").asDouble());
                if (h.has("learning_rate_power")) b.learningRatePower(h.get("learning_rate_power").asDouble());
                if (h.has("initial_accumulator_value")) {
                    b.initialAccumulatorValue(h.get("initial_accumulator_value").asDouble());
                }
                if (h.has("l1_regularization_strength")) {
                    b.l1RegularizationStrength(h.get("l1_regularization_strength").asDouble());
                }
                if (h.has("l2_regularization_strength")) {
                    b.l2RegularizationStrength(h.get("l2_regularization_strength").asDouble());
                }
                if (h.has("l2_shrinkage_regularization_strength")) {
                    b.l2ShrinkageRegularizationStrength(h.get("l2_shrinkage_regularization_strength").asDouble());
                }
                if (h.has("beta")) b.beta(h.get("beta").asDouble());
                return b.build(groups);
            }
            default:
                throw new IllegalArgumentException("no optimizer '" + kind + "' in the golden file factory");
        }
    }

    private static float[] floats(JsonNode node) {
        float[] out = new float[node.size()];
        for (int i = 0; i < out.length; i++) {
            // the JSON holds float32 values printed as doubles: the double→float cast is exact
            out[i] = (float) node.get(i).asDouble();
        }
        return out;
    }

    private static float[][] matrix(JsonNode node) {
        float[][] out = new float[node.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = floats(node.get(i));
        }
        return out;
    }
}
