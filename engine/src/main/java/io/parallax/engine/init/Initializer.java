package io.parallax.engine.init;

import java.util.Locale;
import java.util.random.RandomGenerator;

/**
 * How a parameter tensor is filled before training, with PyTorch's {@code torch.nn.init}
 * formulas. fan_in/fan_out are those of a Linear weight [out, in]: fan_in = in, fan_out = out.
 *
 * <ul>
 *   <li>{@link PyTorchLinearDefault}: {@code nn.Linear}'s own reset: weight kaiming_uniform with
 *       a = √5, i.e. U(−1/√fan_in, 1/√fan_in); bias U(−1/√fan_in, 1/√fan_in).</li>
 *   <li>{@link Uniform} U(a, b); {@link Normal} N(mean, std²).</li>
 *   <li>{@link XavierUniform} U(−g√(6/(fan_in + fan_out)), +…); {@link XavierNormal}
 *       N(0, g²·2/(fan_in + fan_out)).</li>
 *   <li>{@link KaimingUniform} U(−g√(3/fan_in), +…); {@link KaimingNormal} N(0, g²/fan_in), with
 *       g = √2 for ReLU and √(2/(1 + slope²)) for LeakyReLU (mode fan_in, as PyTorch's default).</li>
 *   <li>{@link Constant} (zeros, ones, any value).</li>
 * </ul>
 */
public sealed interface Initializer {

    /** Fills {@code values} for a tensor with the given fans, drawing from {@code rng}. */
    void fill(float[] values, int fanIn, int fanOut, RandomGenerator rng);

    /** PyTorch's default for a Linear layer's weight and bias: U(−1/√fan_in, 1/√fan_in). */
    record PyTorchLinearDefault() implements Initializer {
        @Override
        public void fill(float[] v, int fanIn, int fanOut, RandomGenerator rng) {
            double bound = fanIn > 0 ? 1.0 / Math.sqrt(fanIn) : 0;
            uniform(v, -bound, bound, rng);
        }
    }

    record Uniform(double low, double high) implements Initializer {
        public Uniform {
            if (!(low <= high) || !Double.isFinite(low) || !Double.isFinite(high)) {
                throw new IllegalArgumentException("uniform init needs finite low ≤ high, got [" + low + ", " + high + "]");
            }
        }

        @Override
        public void fill(float[] v, int fanIn, int fanOut, RandomGenerator rng) {
            uniform(v, low, high, rng);
        }
    }

    record Normal(double mean, double std) implements Initializer {
        public Normal {
            if (!(std >= 0) || !Double.isFinite(mean) || !Double.isFinite(std)) {
                throw new IllegalArgumentException("normal init needs a finite mean and std ≥ 0, got mean "
                        + mean + ", std " + std);
            }
        }

        @Override
        public void fill(float[] v, int fanIn, int fanOut, RandomGenerator rng) {
            normal(v, mean, std, rng);
        }
    }

    record XavierUniform(double gain) implements Initializer {
        @Override
        public void fill(float[] v, int fanIn, int fanOut, RandomGenerator rng) {
            double bound = gain * Math.sqrt(6.0 / (fanIn + fanOut));
            uniform(v, -bound, bound, rng);
        }
    }

    record XavierNormal(double gain) implements Initializer {
        @Override
        public void fill(float[] v, int fanIn, int fanOut, RandomGenerator rng) {
            normal(v, 0, gain * Math.sqrt(2.0 / (fanIn + fanOut)), rng);
        }
    }

    /** He/Kaiming uniform, mode fan_in; {@code negativeSlope} 0 means ReLU's gain √2. */
    record KaimingUniform(double negativeSlope) implements Initializer {
        @Override
        public void fill(float[] v, int fanIn, int fanOut, RandomGenerator rng) {
            double bound = leakyReluGain(negativeSlope) * Math.sqrt(3.0 / fanIn);
            uniform(v, -bound, bound, rng);
        }
    }

    /** He/Kaiming normal, mode fan_in; {@code negativeSlope} 0 means ReLU's gain √2. */
    record KaimingNormal(double negativeSlope) implements Initializer {
        @Override
        public void fill(float[] v, int fanIn, int fanOut, RandomGenerator rng) {
            normal(v, 0, leakyReluGain(negativeSlope) / Math.sqrt(fanIn), rng);
        }
    }

    record Constant(double value) implements Initializer {
        @Override
        public void fill(float[] v, int fanIn, int fanOut, RandomGenerator rng) {
            java.util.Arrays.fill(v, (float) value);
        }
    }

    static Initializer zeros() {
        return new Constant(0);
    }

    static Initializer ones() {
        return new Constant(1);
    }

    /** PyTorch's {@code calculate_gain('leaky_relu', slope)}: √(2/(1 + slope²)); slope 0 is ReLU's √2. */
    static double leakyReluGain(double negativeSlope) {
        return Math.sqrt(2.0 / (1 + negativeSlope * negativeSlope));
    }

    /**
     * An initializer by name, as job files spell it: {@code default}, {@code zeros}, {@code ones},
     * {@code xavier_uniform}, {@code xavier_normal}, {@code kaiming_uniform}, {@code kaiming_normal}
     * (aliases {@code he_uniform}, {@code he_normal}, {@code glorot_uniform}, {@code glorot_normal}).
     * Schemes with arguments (uniform, normal, constant) are built with their records.
     */
    static Initializer byName(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "default", "pytorch" -> new PyTorchLinearDefault();
            case "zeros" -> zeros();
            case "ones" -> ones();
            case "xavier_uniform", "glorot_uniform" -> new XavierUniform(1);
            case "xavier_normal", "glorot_normal" -> new XavierNormal(1);
            case "kaiming_uniform", "he_uniform" -> new KaimingUniform(0);
            case "kaiming_normal", "he_normal" -> new KaimingNormal(0);
            default -> throw new IllegalArgumentException("unknown initializer '" + name + "'; known: default, "
                    + "zeros, ones, xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal");
        };
    }

    private static void uniform(float[] v, double low, double high, RandomGenerator rng) {
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (low + (high - low) * rng.nextDouble());
        }
    }

    private static void normal(float[] v, double mean, double std, RandomGenerator rng) {
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (mean + std * rng.nextGaussian());
        }
    }
}
