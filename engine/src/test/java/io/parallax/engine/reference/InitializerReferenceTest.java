package io.parallax.engine.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.parallax.engine.backend.Backend;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.init.Initializer;
import io.parallax.engine.layer.Layer;
import io.parallax.engine.layer.Linear;
import io.parallax.engine.layer.ReLU;
import io.parallax.engine.model.NamedTensor;
import io.parallax.engine.model.Sequential;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The initialisers' distributions against their formulas and against PyTorch's own draws
 * ({@code init} of the reference file, the empirical min/max/mean/std of PyTorch's tensors).
 *
 * <p>Our generator differs from PyTorch's, so values cannot match; the distributions must. Every
 * tolerance below is a sampling bound derived from the tensor's size n, never tuned by hand:
 * <ul>
 *   <li>mean: |mean| ≤ Z·σ/√n (central limit theorem);</li>
 *   <li>std: |s − σ| ≤ Z·σ/√(5n) for U(−b, b) (Var(s²) ≈ (μ₄ − σ⁴)/n with μ₄ = b⁴/5, σ² = b²/3,
 *       and sd(s) ≈ sd(s²)/(2σ)), Z·σ/√(2n) for a normal;</li>
 *   <li>extremes of U(−b, b): P(max &lt; b(1 − δ)) = (1 − δ/2)ⁿ, so requiring max ≥ b(1 − δ) with
 *       δ = 2(1 − P_FAIL^{1/n}) fails with probability P_FAIL (likewise for the min). That is
 *       0.02% of b for the 200,704 weights of Linear(784, 256), 3% for the 1,280 of
 *       Linear(128, 10), and nothing useful for its 10 biases, which is the honest answer.</li>
 * </ul>
 * Z = 6 and P_FAIL = 1e-9: a correct initialiser fails with probability about 2·10⁻⁹ per check.
 * The same criteria are applied to PyTorch's recorded statistics, which shows they describe
 * PyTorch's behaviour and not just ours.
 */
class InitializerReferenceTest {

    static final double Z = 6;
    static final double P_FAIL = 1e-9;
    static final long[] SEEDS = {1, 2, 3};

    /** The backend under test. */
    protected Backend backend() {
        return Backends.cpu();
    }

    /** Summary statistics of a tensor's values; std is the population (biased) one. */
    record Stats(long n, double min, double max, double mean, double std) {

        static Stats of(float[] v) {
            double sum = 0;
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            for (float x : v) {
                sum += x;
                min = Math.min(min, x);
                max = Math.max(max, x);
            }
            double mean = sum / v.length;
            double ss = 0;
            for (float x : v) {
                ss += (x - mean) * (x - mean);
            }
            return new Stats(v.length, min, max, mean, Math.sqrt(ss / v.length));
        }

        static Stats of(JsonNode torch) {
            return new Stats(torch.get("n").asLong(), torch.get("min").asDouble(), torch.get("max").asDouble(),
                    torch.get("mean").asDouble(), torch.get("std").asDouble());
        }
    }

    @TestFactory
    Stream<DynamicTest> linearDefaultIsUniformOverOneOverSqrtFanIn() {
        return ReferenceData.elements(ReferenceData.root().get("init").get("linear_default")).map(e -> {
            int in = e.get("in_features").asInt();
            int out = e.get("out_features").asInt();
            String tensor = e.get("tensor").asText();
            double bound = 1.0 / Math.sqrt(in);
            return DynamicTest.dynamicTest("Linear(" + in + ", " + out + ")." + tensor, () -> {
                assertEquals(bound, e.get("bound").asDouble(), 1e-15, "PyTorch's bound is 1/√fan_in");
                Stats torch = Stats.of(e.get("torch"));
                assertEquals(tensor.equals("weight") ? (long) in * out : out, torch.n(), "PyTorch's tensor size");
                checkUniform("PyTorch", torch, bound);
                for (long seed : SEEDS) {
                    Sequential m = new Sequential(in, List.of(new Linear(in, out)), backend(), seed);
                    float[] v = named(m, "0." + tensor);
                    for (int i = 0; i < v.length; i++) {
                        int index = i;
                        // rounding to float is monotonic, so a draw inside the double bound stays inside (float) bound
                        assertTrue(Math.abs(v[i]) <= (float) bound,
                                () -> "seed " + seed + ": element " + index + " = " + v[index] + " outside ±" + bound);
                    }
                    checkUniform("ours, seed " + seed, Stats.of(v), bound);
                }
            });
        });
    }

    @TestFactory
    Stream<DynamicTest> xavierAndKaimingStdMatchTheirFormulas() {
        return ReferenceData.elements(ReferenceData.root().get("init").get("schemes")).map(e -> {
            String scheme = e.get("scheme").asText();
            double slope = e.get("negative_slope").asDouble();
            int in = e.get("in_features").asInt();
            int out = e.get("out_features").asInt();
            boolean uniform = scheme.endsWith("uniform");
            double std = formulaStd(scheme, slope, in, out);
            return DynamicTest.dynamicTest(scheme + (scheme.startsWith("kaiming")
                    ? (slope == 0 ? " relu" : " leaky_relu " + slope) : "") + " [" + out + "x" + in + "]", () -> {
                assertEquals(std, e.get("std").asDouble(), 1e-12 * std, "the script's formula and ours");
                checkScheme("PyTorch", Stats.of(e.get("torch")), std, uniform);
                for (long seed : SEEDS) {
                    Layer layer = Linear.withInit(in, out, false, initializer(scheme, slope));
                    Sequential m = new Sequential(in, List.of(layer), backend(), seed);
                    checkScheme("ours, seed " + seed, Stats.of(named(m, "0.weight")), std, uniform);
                }
            });
        });
    }

    @Test
    void theSameSeedGivesTheSameWeightsAndAnotherSeedOtherOnes() {
        float[] a = mlp(42).parameters().toArray();
        float[] b = mlp(42).parameters().toArray();
        float[] c = mlp(43).parameters().toArray();
        assertArrayEquals(a, b, "two models built with seed 42");
        int same = 0;
        for (int i = 0; i < a.length; i++) {
            if (a[i] == c[i]) {
                same++;
            }
        }
        // independent continuous draws coincide only by float quantisation: essentially never
        assertTrue(same < a.length / 1000, same + " of " + a.length + " parameters equal under seeds 42 and 43");

        Sequential redrawn = mlp(43);
        redrawn.initialize(42);
        assertArrayEquals(a, redrawn.parameters().toArray(), "initialize(42) on a model built with seed 43");
    }

    private Sequential mlp(long seed) {
        return new Sequential(784, List.of(new Linear(784, 256), new ReLU(), new Linear(256, 128), new ReLU(),
                new Linear(128, 10)), backend(), seed);
    }

    /** Mean and std for U(−b, b), plus the extremes' closeness to ±b. */
    private static void checkUniform(String who, Stats s, double bound) {
        double sigma = bound / Math.sqrt(3);
        assertTrue(s.min() >= -bound && s.max() <= bound, who + ": range [" + s.min() + ", " + s.max()
                + "] outside ±" + bound);
        double delta = 2 * (1 - Math.pow(P_FAIL, 1.0 / s.n()));
        assertTrue(s.max() >= bound * (1 - delta), who + ": max " + s.max() + " below " + bound * (1 - delta)
                + " (n = " + s.n() + ")");
        assertTrue(s.min() <= -bound * (1 - delta), who + ": min " + s.min() + " above " + -bound * (1 - delta)
                + " (n = " + s.n() + ")");
        checkMoments(who, s, sigma, true);
    }

    private static void checkScheme(String who, Stats s, double sigma, boolean uniform) {
        if (uniform) {
            checkUniform(who, s, sigma * Math.sqrt(3));
        } else {
            checkMoments(who, s, sigma, false);
        }
    }

    private static void checkMoments(String who, Stats s, double sigma, boolean uniform) {
        double meanTol = Z * sigma / Math.sqrt(s.n());
        assertTrue(Math.abs(s.mean()) <= meanTol, who + ": mean " + s.mean() + " beyond ±" + meanTol
                + " (n = " + s.n() + ")");
        double stdTol = Z * sigma / Math.sqrt((uniform ? 5.0 : 2.0) * s.n());
        assertTrue(Math.abs(s.std() - sigma) <= stdTol, who + ": std " + s.std() + " vs " + sigma + " ± " + stdTol
                + " (n = " + s.n() + ")");
    }

    /** torch.nn.init's std: gain·√(2/(fan_in + fan_out)) for Xavier, gain/√fan_in for Kaiming. */
    private static double formulaStd(String scheme, double slope, int fanIn, int fanOut) {
        if (scheme.startsWith("xavier")) {
            return Math.sqrt(2.0 / (fanIn + fanOut));
        }
        return Math.sqrt(2.0 / (1 + slope * slope)) / Math.sqrt(fanIn);
    }

    private static Initializer initializer(String scheme, double slope) {
        return switch (scheme) {
            case "xavier_uniform" -> new Initializer.XavierUniform(1);
            case "xavier_normal" -> new Initializer.XavierNormal(1);
            case "kaiming_uniform" -> new Initializer.KaimingUniform(slope);
            case "kaiming_normal" -> new Initializer.KaimingNormal(slope);
            default -> throw new IllegalArgumentException("no scheme '" + scheme + "' in the reference tests");
        };
    }

    private static float[] named(Sequential m, String name) {
        return m.namedParameters().stream().filter(t -> t.name().equals(name)).findFirst()
                .map(NamedTensor::tensor).orElseThrow(() -> new AssertionError("no parameter " + name)).toArray();
    }
}
