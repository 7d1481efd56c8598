package io.parallax.engine.random;

/**
 * A counter-based random generator: every draw is a pure function of (key, counter…), with no
 * state to carry between threads or processes. Dropout uses it keyed by (seed, step, layer)
 * and countered by (sample id, feature), so a sample's mask does not depend on which worker,
 * batch position or backend computes it. The mixing is SplitMix64's finaliser (Steele et al.,
 * "Fast splittable pseudorandom number generators", 2014), integer-only so any device can
 * reproduce it bit for bit.
 */
public final class CounterRng {

    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private CounterRng() {}

    /** SplitMix64's 64-bit finaliser. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A key from several parts (e.g. seed, step, layer index). */
    public static long key(long... parts) {
        long k = 0x5DEECE66DL;
        for (long p : parts) {
            k = mix(k + GOLDEN + p);
        }
        return k;
    }

    /** A uniform float in [0, 1) with 24 random bits, a function of (key, a, b) only. */
    public static float uniform(long key, long a, long b) {
        long z = mix(key + GOLDEN * (a + 1));
        z = mix(z + GOLDEN * (b + 1));
        return (z >>> 40) * 0x1.0p-24f;
    }
}
