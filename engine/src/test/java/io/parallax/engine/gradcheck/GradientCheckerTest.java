package io.parallax.engine.gradcheck;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.init.Initializer;
import io.parallax.engine.layer.BinaryStep;
import io.parallax.engine.layer.ForwardContext;
import io.parallax.engine.layer.Layer;
import io.parallax.engine.layer.ParameterSpec;
import io.parallax.engine.layer.RowBuffer;
import io.parallax.engine.loss.Loss;
import io.parallax.engine.loss.MeanSquaredErrorLoss;
import io.parallax.engine.loss.Targets;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.testing.GradientChecker;
import io.parallax.engine.testing.GradientReport;
import io.parallax.engine.testing.Objective;
import io.parallax.engine.testing.RandomTensors;
import io.parallax.engine.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The checker itself must fail on wrong gradients, or its passes mean nothing: a layer whose
 * backward is 2% off, one that leaves an element or a parameter gradient unwritten, a frozen
 * layer that writes its gradient, a loss with a mis-scaled gradient, and a vacuous check.
 */
class GradientCheckerTest {

    private final GradientChecker checker = new GradientChecker();
    private final Backend backend = Backends.cpu();
    private final ForwardContext context = new ForwardContext(true, 1, 0, null);

    @Test
    void acceptsACorrectLayerAndRejectsOneTwoPercentOff() {
        assertTrue(check(new ColumnScaleCube(1.0f, false)).passes());
        GradientReport wrong = check(new ColumnScaleCube(1.02f, false));
        assertFalse(wrong.passes(), wrong.toString());
        assertFalse(wrong.check("input").passes());
        assertThrows(AssertionError.class, wrong::assertPasses);
    }

    @Test
    void rejectsAnInputGradientElementLeftUnwritten() {
        GradientReport r = check(new ColumnScaleCube(1.0f, true));
        assertFalse(r.check("input").passes(), r.toString());
    }

    @Test
    void rejectsAParameterGradientThatBackwardDoesNotOverwrite() {
        ColumnScaleCube layer = new ColumnScaleCube(1.0f, false);
        layer.skipParameterGradient = true;
        GradientReport r = check(layer);
        assertTrue(r.check("input").passes());
        assertFalse(r.check("0.weight").passes(), r.toString());
    }

    @Test
    void rejectsAFrozenLayerThatWritesItsGradient() {
        // a trainable layer below, so the model does run the frozen layer's backward
        ColumnScaleCube layer = new ColumnScaleCube(1.0f, false);
        layer.ignoreFrozen = true;
        Sequential m = new Sequential(3, List.of(new ColumnScaleCube(1.0f, false), layer), backend, 1);
        m.setFrozen(1, true);
        Tensor x = RandomTensors.uniform(backend, new SplittableRandom(1), -1, 1, 4, 3);
        GradientReport r = checker.checkModel(m, x, context, Objective.weightedSum(1));
        assertTrue(r.check("0.weight").passes(), r.toString());
        assertFalse(r.check("1.weight").passes(), r.toString());
    }

    @Test
    void rejectsALossWithAMisScaledGradient() {
        SplittableRandom rng = new SplittableRandom(4);
        Tensor y = RandomTensors.uniform(backend, rng, -2, 2, 4, 3);
        Targets t = Targets.values(RandomTensors.uniform(backend, rng, -2, 2, 4, 3));
        GradientChecker strict = new GradientChecker(GradientChecker.LOSS);
        assertTrue(strict.checkLoss(new MeanSquaredErrorLoss(), y, t).passes());
        Loss offByOnePercent = new Loss() {
            private final Loss inner = new MeanSquaredErrorLoss();

            @Override
            public String type() {
                return "mse";
            }

            @Override
            public Reduction reduction() {
                return Reduction.MEAN;
            }

            @Override
            public long meanDivisor(long rows, long width) {
                return inner.meanDivisor(rows, width);
            }

            @Override
            public double compute(Tensor output, Targets targets, Tensor grad) {
                double v = inner.compute(output, targets, grad);
                if (grad != null) {
                    output.backend().scale(grad, 1.01f);
                }
                return v;
            }
        };
        assertFalse(strict.checkLoss(offByOnePercent, y, t).passes());
    }

    @Test
    void flagsAVacuousCheck() {
        Sequential m = new Sequential(3, List.of(new BinaryStep()), backend, 1);
        Tensor x = RandomTensors.awayFromZero(backend, new SplittableRandom(2), 0.1, 2, 4, 3);
        GradientReport r = checker.checkModel(m, x, context, Objective.weightedSum(1)).assertPasses();
        assertThrows(AssertionError.class, () -> r.assertNonTrivial(1e-3));
    }

    private GradientReport check(Layer layer) {
        Sequential m = new Sequential(3, List.of(layer), backend, 1);
        Tensor x = RandomTensors.uniform(backend, new SplittableRandom(3), -2, 2, 4, 3);
        return checker.checkModel(m, x, context, Objective.weightedSum(3));
    }

    /**
     * y[r, c] = w[c]·x[r, c]³, with switches that break its backward: a factor on dx, dx's last
     * element left unwritten, dw left unwritten, dw written although frozen.
     */
    private static final class ColumnScaleCube extends Layer {
        private final float inputGradientFactor;
        private final boolean skipLastInputElement;
        boolean skipParameterGradient;
        boolean ignoreFrozen;
        private Tensor weight;
        private Tensor weightGrad;
        private Tensor input;
        private final RowBuffer output = new RowBuffer();
        private final RowBuffer inputGrad = new RowBuffer();

        ColumnScaleCube(float inputGradientFactor, boolean skipLastInputElement) {
            this.inputGradientFactor = inputGradientFactor;
            this.skipLastInputElement = skipLastInputElement;
        }

        @Override
        public String type() {
            return "column_scale_cube";
        }

        @Override
        public int outputFeatures(int inputFeatures) {
            return inputFeatures;
        }

        @Override
        public List<ParameterSpec> parameterSpecs() {
            return List.of(new ParameterSpec("weight", new int[] {3}, new Initializer.Uniform(0.5, 1.5), 3, 3));
        }

        @Override
        public Map<String, Object> config() {
            return Map.of();
        }

        @Override
        public void bind(Backend backend, int index, List<Tensor> parameters, List<Tensor> gradients,
                         List<Tensor> buffers) {
            super.bind(backend, index, parameters, gradients, buffers);
            weight = parameters.get(0);
            weightGrad = gradients.get(0);
        }

        @Override
        public Tensor forward(Tensor x, ForwardContext context) {
            input = x;
            float[] v = x.toArray();
            float[] w = weight.toArray();
            for (int i = 0; i < v.length; i++) {
                v[i] = w[i % 3] * v[i] * v[i] * v[i];
            }
            Tensor y = output.get(backend, x.rows(), 3);
            y.copyFrom(v);
            return y;
        }

        @Override
        public Tensor backward(Tensor dy, boolean needInputGradient) {
            float[] x = input.toArray();
            float[] g = dy.toArray();
            float[] w = weight.toArray();
            if ((!isFrozen() || ignoreFrozen) && !skipParameterGradient) {
                float[] dw = new float[3];
                for (int i = 0; i < x.length; i++) {
                    dw[i % 3] += g[i] * x[i] * x[i] * x[i];
                }
                weightGrad.copyFrom(dw);
            }
            if (!needInputGradient) {
                return null;
            }
            Tensor dx = inputGrad.get(backend, input.rows(), 3);
            float[] out = dx.toArray();
            int n = skipLastInputElement ? x.length - 1 : x.length;
            for (int i = 0; i < n; i++) {
                out[i] = inputGradientFactor * g[i] * 3 * w[i % 3] * x[i] * x[i];
            }
            dx.copyFrom(out);
            return dx;
        }
    }
}
