package io.parallax.engine.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;

/**
 * What a {@link GradientChecker} found, one entry per checked tensor ({@code "input"},
 * {@code "0.weight"}, …): the element where analytic and numeric gradients disagree most
 * relative to the tolerance.
 */
public final class GradientReport {

    /**
     * The comparison of one tensor's gradient.
     *
     * @param name          the tensor ("input", a state_dict name, or "output" for a loss)
     * @param elements      how many elements were compared
     * @param worstRatio    max over elements of |analytic − numeric| / allowed; ≤ 1 passes
     * @param worstIndex    the flat index where that maximum was reached
     * @param analytic      the analytic gradient there
     * @param numeric       the numeric (central-difference) gradient there
     * @param maxAbsNumeric the largest |numeric| in the tensor: shows the check was not vacuous
     * @param frozen        true when the tensor belongs to a frozen layer, whose gradient must be
     *                      exactly zero whatever the finite difference says
     */
    public record TensorCheck(String name, int elements, double worstRatio, int worstIndex, double analytic,
                              double numeric, double maxAbsNumeric, boolean frozen) {

        public boolean passes() {
            return worstRatio <= 1.0;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%-14s %5d elements  worst %.3g of tolerance at [%d]: analytic %.6g,"
                    + " %s %.6g%s", name, elements, worstRatio, worstIndex, analytic,
                    frozen ? "expected" : "numeric", numeric, passes() ? "" : "  FAILED");
        }
    }

    private final String subject;
    private final List<TensorCheck> checks;

    GradientReport(String subject, List<TensorCheck> checks) {
        this.subject = subject;
        this.checks = List.copyOf(checks);
    }

    /** Every tensor's result, inputs first, then parameters in state_dict order. */
    public List<TensorCheck> checks() {
        return checks;
    }

    /** The result for one tensor by name. */
    public TensorCheck check(String name) {
        return checks.stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow(() ->
                new NoSuchElementException("no gradient of '" + name + "' was checked; checked: "
                        + checks.stream().map(TensorCheck::name).toList()));
    }

    public boolean passes() {
        return checks.stream().allMatch(TensorCheck::passes);
    }

    /** Throws an {@link AssertionError} listing every tensor unless all passed. */
    public GradientReport assertPasses() {
        if (!passes()) {
            throw new AssertionError("gradient check failed for " + this);
        }
        return this;
    }

    /**
     * Throws unless every non-frozen tensor's numeric gradient reaches {@code minAbs} somewhere,
     * so a check that passes because everything is zero is caught. {@code exempt} names tensors
     * whose gradient is zero by the mathematics (e.g. the bias of a Linear layer right below a
     * BatchNorm1d in training mode, whose shift the batch mean cancels).
     */
    public GradientReport assertNonTrivial(double minAbs, String... exempt) {
        List<String> exempted = List.of(exempt);
        List<String> flat = new ArrayList<>();
        for (TensorCheck c : checks) {
            if (!c.frozen() && !exempted.contains(c.name()) && !(c.maxAbsNumeric() >= minAbs)) {
                flat.add(c.name() + " (max |numeric| " + c.maxAbsNumeric() + ")");
            }
        }
        if (!flat.isEmpty()) {
            throw new AssertionError("gradient check of " + subject + " is vacuous for " + flat);
        }
        return this;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(subject).append('\n');
        checks.forEach(c -> sb.append("  ").append(c).append('\n'));
        return sb.toString();
    }
}
