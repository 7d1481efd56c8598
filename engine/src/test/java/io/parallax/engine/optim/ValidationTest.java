package io.parallax.engine.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Invalid hyperparameters are rejected when the optimizer is built, naming name and value. */
class ValidationTest {

    private static final ParameterGroups G = ParameterGroups.single(4);

    private static void rejects(String message, Executable build) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build);
        assertEquals(message, e.getMessage());
    }

    @Test
    void learningRate() {
        rejects("learning rate must be >= 0, got -0.1", () -> SGD.builder(-0.1).build(G));
        rejects("learning rate must be >= 0, got NaN", () -> RMSprop.builder().lr(Double.NaN).build(G));
        rejects("learning rate must be finite, got Infinity",
                () -> Adagrad.builder().lr(Double.POSITIVE_INFINITY).build(G));
        rejects("learning rate must be > 0, got -1.0", () -> Ftrl.builder().learningRate(-1).build(G));
        rejects("learning rate must be > 0 for ftrl, whose update divides by it, got 0.0",
                () -> Ftrl.builder().learningRate(0).build(G));
        Optimizer opt = Adam.builder().build(G);
        rejects("learning rate must be >= 0, got -0.001", () -> opt.setLearningRate(-0.001));
        assertEquals(1e-3, opt.learningRate());
        // a schedule may bring the rate to 0, as PyTorch's may: that step changes nothing
        float[] p = {1, -2, 3, 0.5f};
        Optimizer sgd = SGD.builder(0.1).momentum(0.9).build(G);
        sgd.setLearningRate(0);
        sgd.step(p, new float[] {1, 1, 1, 1});
        assertArrayEquals(new float[] {1, -2, 3, 0.5f}, p);
        Optimizer adam = Adam.builder().build(G);
        adam.setLearningRate(0);
        adam.step(p, new float[] {1, 1, 1, 1});
        assertArrayEquals(new float[] {1, -2, 3, 0.5f}, p);
        // but for ftrl, which divides by it
        Optimizer ftrl = Ftrl.builder().build(G);
        rejects("ftrl divides by the learning rate, and a schedule brought it to 0: keep it > 0 (cosine annealing: "
                + "eta_min > 0, or a t_max past the run's end)", () -> ftrl.setLearningRate(0));
    }

    /** PyTorch's optimizers take lr=0 (their check is {@code 0.0 <= lr}): every step then leaves the weights as they are. */
    @Test
    void aLearningRateOfZeroIsTakenAndChangesNothing() {
        List<Optimizer> all = List.of(SGD.builder(0).momentum(0.9).nesterov(true).weightDecay(0.1).build(G),
                Adam.builder().lr(0).amsgrad(true).weightDecay(0.1).build(G), AdamW.builder().lr(0).build(G),
                Adagrad.builder().lr(0).build(G), Adadelta.builder().lr(0).build(G),
                RMSprop.builder().lr(0).momentum(0.5).centered(true).build(G), Adamax.builder().lr(0).build(G),
                NAdam.builder().lr(0).build(G));
        for (Optimizer opt : all) {
            float[] p = {1, -2, 3, 0.5f};
            for (int step = 0; step < 3; step++) {
                opt.step(p, new float[] {1, -1, 0.5f, 2});
            }
            assertArrayEquals(new float[] {1, -2, 3, 0.5f}, p, opt.toString());
            assertEquals(0, opt.learningRate(), opt.toString());
        }
    }

    @Test
    void betasAndEps() {
        rejects("betas[0] must be in [0, 1), got 1.0", () -> Adam.builder().betas(1.0, 0.999).build(G));
        rejects("betas[1] must be in [0, 1), got -0.5", () -> AdamW.builder().betas(0.9, -0.5).build(G));
        rejects("betas[0] must be in [0, 1), got 1.5", () -> Adamax.builder().betas(1.5, 0.999).build(G));
        rejects("betas[1] must be in [0, 1), got 1.0", () -> NAdam.builder().betas(0.9, 1.0).build(G));
        rejects("eps must be > 0, got 0.0", () -> Adam.builder().eps(0).build(G));
        rejects("eps must be > 0, got -1.0E-8", () -> RMSprop.builder().eps(-1e-8).build(G));
        rejects("eps must be > 0, got 0.0", () -> Adadelta.builder().eps(0).build(G));
        rejects("eps must be > 0, got 0.0", () -> Adagrad.builder().eps(0).build(G));
    }

    @Test
    void momentumAndNesterov() {
        rejects("momentum must be >= 0, got -0.9", () -> SGD.builder(0.1).momentum(-0.9).build(G));
        rejects("momentum must be >= 0, got -0.1", () -> RMSprop.builder().momentum(-0.1).build(G));
        rejects("nesterov momentum requires momentum > 0 and dampening = 0, got momentum=0.0, dampening=0.0",
                () -> SGD.builder(0.1).nesterov(true).build(G));
        rejects("nesterov momentum requires momentum > 0 and dampening = 0, got momentum=0.9, dampening=0.1",
                () -> SGD.builder(0.1).momentum(0.9).dampening(0.1).nesterov(true).build(G));
        rejects("dampening must be in [0, 1], got 2.0", () -> SGD.builder(0.1).momentum(0.9).dampening(2).build(G));
    }

    @Test
    void decaysAndRates() {
        rejects("weight_decay must be >= 0, got -0.01", () -> AdamW.builder().weightDecay(-0.01).build(G));
        rejects("weight_decay must be >= 0, got -1.0", () -> SGD.builder(0.1).weightDecay(-1).build(G));
        rejects("rho must be in [0, 1], got 1.1", () -> Adadelta.builder().rho(1.1).build(G));
        rejects("alpha must be in [0, 1], got -0.5", () -> RMSprop.builder().alpha(-0.5).build(G));
        rejects("lr_decay must be >= 0, got -1.0", () -> Adagrad.builder().lrDecay(-1).build(G));
        rejects("initial_accumulator_value must be >= 0, got -0.1",
                () -> Adagrad.builder().initialAccumulatorValue(-0.1).build(G));
        rejects("momentum_decay must be >= 0, got -0.004", () -> NAdam.builder().momentumDecay(-0.004).build(G));
    }

    @Test
    void ftrl() {
        rejects("learning_rate_power must be <= 0, got 0.5", () -> Ftrl.builder().learningRatePower(0.5).build(G));
        rejects("initial_accumulator_value must be >= 0, got -1.0",
                () -> Ftrl.builder().initialAccumulatorValue(-1).build(G));
        rejects("l1_regularization_strength must be >= 0, got -0.1",
                () -> Ftrl.builder().l1RegularizationStrength(-0.1).build(G));
        rejects("l2_regularization_strength must be >= 0, got -0.1",
                () -> Ftrl.builder().l2RegularizationStrength(-0.1).build(G));
        rejects("l2_shrinkage_regularization_strength must be >= 0, got -0.1",
                () -> Ftrl.builder().l2ShrinkageRegularizationStrength(-0.1).build(G));
        rejects("beta must be >= 0, got -1.0", () -> Ftrl.builder().beta(-1).build(G));
    }

    @Test
    void defaultsAsInTorchAndToStringPrintsThem() {
        assertEquals("SGD(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=false)",
                SGD.builder(0.1).build(G).toString());
        assertEquals("Adam(lr=0.001, betas=(0.9, 0.999), eps=1.0E-8, weight_decay=0.0, amsgrad=false)",
                Adam.builder().build(G).toString());
        assertEquals("AdamW(lr=0.001, betas=(0.9, 0.999), eps=1.0E-8, weight_decay=0.01, amsgrad=false)",
                AdamW.builder().build(G).toString());
        assertEquals("Adagrad(lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1.0E-10)",
                Adagrad.builder().build(G).toString());
        assertEquals("Adadelta(lr=1.0, rho=0.9, eps=1.0E-6, weight_decay=0.0)", Adadelta.builder().build(G).toString());
        assertEquals("RMSprop(lr=0.01, alpha=0.99, eps=1.0E-8, weight_decay=0.0, momentum=0.0, centered=false)",
                RMSprop.builder().build(G).toString());
        assertEquals("Adamax(lr=0.002, betas=(0.9, 0.999), eps=1.0E-8, weight_decay=0.0)",
                Adamax.builder().build(G).toString());
        assertEquals("NAdam(lr=0.002, betas=(0.9, 0.999), eps=1.0E-8, weight_decay=0.0, momentum_decay=0.004)",
                NAdam.builder().build(G).toString());
        assertEquals("Ftrl(learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1, "
                + "l1_regularization_strength=0.0, l2_regularization_strength=0.0, "
                + "l2_shrinkage_regularization_strength=0.0, beta=0.0)", Ftrl.builder().build(G).toString());
    }
}
