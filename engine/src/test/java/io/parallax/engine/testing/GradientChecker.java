package io.parallax.engine.testing;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.layer.ForwardContext;
import io.parallax.engine.layer.Layer;
import io.parallax.engine.loss.Loss;
import io.parallax.engine.loss.Targets;
import io.parallax.engine.model.NamedTensor;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleSupplier;

/**
 * Finite-difference gradient checks in double precision.
 *
 * <p>For a model, a fixed input and a fixed {@link ForwardContext} (so dropout masks and the
 * mode do not change between passes), the checker compares, element by element, the analytic
 * gradients (the model's {@code backward}) with central differences
 * (L(v + h) − L(v − h)) / (v₊ − v₋) of a scalar {@link Objective}, for the input and for every
 * parameter tensor. The engine computes in float32, so all of the checker's own arithmetic is in
 * double: L is summed in double from the float outputs, and the denominator is the difference of
 * the two perturbed values <em>after</em> rounding them to float, so rounding the step does not
 * bias the quotient.
 *
 * <p>An element passes when |analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|). The
 * parameters of a frozen layer must have a gradient of exactly zero instead.
 *
 * <p>Callers keep inputs away from kinks (ReLU, LeakyReLU, ELU, BinaryStep at 0) by more than the
 * step: a central difference across a kink measures neither side's derivative.
 */
public final class GradientChecker {

    /**
     * Step and tolerances. The step for a value v is {@code step·max(1, |v|)}: absolute for small
     * values, relative for large ones.
     */
    public record Settings(double step, double relativeTolerance, double absoluteTolerance) {
        public Settings {
            if (!(step > 0) || !(relativeTolerance >= 0) || !(absoluteTolerance >= 0)) {
                throw new IllegalArgumentException("step must be > 0 and tolerances ≥ 0, got step " + step
                        + ", rtol " + relativeTolerance + ", atol " + absoluteTolerance);
            }
        }
    }

    /**
     * For objectives computed through float32 layers. Each output carries a relative round-off of
     * about k·2⁻²⁴ ≈ k·6e-8 (k: the rounding steps on its path, a few tens for the small models
     * checked here), so L = Σ rᵢyᵢ with Σ|rᵢyᵢ| ≲ 20 is off by δL ≲ 1e-5 in the worst case and
     * ~1e-6 typically (the errors have random signs). A central difference with step h is then
     * off by δL/h from round-off plus h²·|L‴|/6 from truncation. h = 1e-2 balances the two
     * (the optimum (3δL/|L‴|)^⅓ is ≈ 1e-2 for |L‴| ≈ 1): ≈ 1e-4 from round-off and ≈ 2e-5·|L‴|
     * from truncation. Hence atol = 1e-3 (10× the typical round-off) and rtol = 1e-2, which
     * admits third derivatives up to ~500× the first; a wrong formula (a missing term, a wrong
     * sign, a wrong reduction scale) is off by far more than 1%.
     */
    public static final Settings FLOAT32 = new Settings(1e-2, 1e-2, 1e-3);

    /**
     * For losses checked on their own: the engine sums a loss in double from the float inputs,
     * so the value is exact to ~1e-16 relative and only the float32 rounding of the gradient
     * (≈ 6e-8 relative) and truncation (h²·|L‴|/6 ≈ 2e-7·|L‴| for h = 1e-3) remain.
     * rtol = 1e-3 leaves room for the steep third derivative of BCE near p = 0.05
     * (|L‴|/|L′| ≈ 2/p² ≈ 800); atol = 1e-6 sits above float rounding of gradients of order one.
     */
    public static final Settings LOSS = new Settings(1e-3, 1e-3, 1e-6);

    private final Settings settings;

    /** A checker with the {@link #FLOAT32} settings. */
    public GradientChecker() {
        this(FLOAT32);
    }

    public GradientChecker(Settings settings) {
        this.settings = settings;
    }

    public Settings settings() {
        return settings;
    }

    /**
     * Checks dL/dx and the gradient of every parameter of {@code model} at {@code x}.
     *
     * <p>Parameter gradients come from {@link Sequential#backward}, after every trainable
     * gradient has been filled with NaN, so an element backward fails to overwrite shows up as a
     * mismatch; a frozen layer's gradient must stay exactly zero. The input gradient comes from
     * calling every layer's {@link Layer#backward} with {@code needInputGradient = true}, top to
     * bottom (the model itself never computes it). {@code x} is perturbed in place and restored.
     */
    public GradientReport checkModel(Sequential model, Tensor x, ForwardContext context, Objective objective) {
        Backend backend = model.backend();
        Tensor dy = objective.gradient(model.forward(x, context));
        for (NamedTensor g : model.namedGradients()) {
            if (!g.layer().isFrozen()) {
                backend.fill(g.tensor(), Float.NaN);
            }
        }
        model.backward(dy);
        List<float[]> parameterGradients = new ArrayList<>();
        for (NamedTensor g : model.namedGradients()) {
            parameterGradients.add(g.tensor().toArray());
        }
        float[] inputGradient = inputGradient(model, x, context, objective);

        DoubleSupplier value = () -> objective.value(model.forward(x, context));
        List<GradientReport.TensorCheck> checks = new ArrayList<>();
        checks.add(compare("input", x, inputGradient, false, value));
        List<NamedTensor> parameters = model.namedParameters();
        for (int i = 0; i < parameters.size(); i++) {
            NamedTensor p = parameters.get(i);
            checks.add(compare(p.name(), p.tensor(), parameterGradients.get(i), p.layer().isFrozen(), value));
        }
        return new GradientReport(model + " in " + (context.training() ? "training" : "eval") + " mode, L = "
                + objective, checks);
    }

    /**
     * dL/dx of the model at {@code x}: one forward pass, then every layer's backward from the top
     * with its input gradient requested.
     */
    public static float[] inputGradient(Sequential model, Tensor x, ForwardContext context, Objective objective) {
        Tensor g = objective.gradient(model.forward(x, context));
        List<Layer> layers = model.layers();
        for (int i = layers.size() - 1; i >= 0; i--) {
            g = layers.get(i).backward(g, true);
        }
        return g.toArray();
    }

    /** Checks dL/d(output) of a loss against central differences of its value. */
    public GradientReport checkLoss(Loss loss, Tensor output, Targets targets) {
        Tensor grad = Tensor.zeros(output.backend(), output.shape());
        loss.compute(output, targets, grad);
        GradientReport.TensorCheck check = compare("output", output, grad.toArray(), false,
                () -> loss.compute(output, targets));
        return new GradientReport(loss.toString(), List.of(check));
    }

    private GradientReport.TensorCheck compare(String name, Tensor t, float[] analytic, boolean frozen,
                                               DoubleSupplier objective) {
        float[] values = t.toArray();
        double worst = -1;
        int worstIndex = -1;
        double worstAnalytic = 0;
        double worstNumeric = 0;
        double maxAbsNumeric = 0;
        for (int i = 0; i < values.length; i++) {
            float v = values[i];
            double h = settings.step() * Math.max(1.0, Math.abs(v));
            float plus = (float) (v + h);
            float minus = (float) (v - h);
            t.set(i, plus);
            double up = objective.getAsDouble();
            t.set(i, minus);
            double down = objective.getAsDouble();
            t.set(i, v);
            double numeric = (up - down) / ((double) plus - (double) minus);
            maxAbsNumeric = Math.max(maxAbsNumeric, Math.abs(numeric));
            double a = analytic[i];
            double expected = frozen ? 0.0 : numeric;
            double ratio;
            if (frozen) {
                ratio = a == 0.0 ? 0.0 : Double.POSITIVE_INFINITY;
            } else if (a == numeric) {
                ratio = 0.0; // also where both are 0 and atol is 0
            } else {
                double allowed = settings.absoluteTolerance()
                        + settings.relativeTolerance() * Math.max(Math.abs(a), Math.abs(numeric));
                ratio = Math.abs(a - numeric) / allowed;
            }
            if (Double.isNaN(ratio)) {
                ratio = Double.POSITIVE_INFINITY;
            }
            if (ratio > worst) {
                worst = ratio;
                worstIndex = i;
                worstAnalytic = a;
                worstNumeric = expected;
            }
        }
        return new GradientReport.TensorCheck(name, values.length, Math.max(worst, 0), worstIndex, worstAnalytic,
                worstNumeric, maxAbsNumeric, frozen);
    }
}
