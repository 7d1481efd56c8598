package io.parallax.engine.io;

/**
 * Conversions from 16-bit floats to float32 (Java 17 has no {@code Float.float16ToFloat}).
 * Both are exact: every F16 and BF16 value is a float32 value.
 */
final class HalfFloats {

    private HalfFloats() {}

    /** IEEE 754 binary16 (1 sign, 5 exponent, 10 fraction bits) to float32. */
    static float f16ToFloat(short bits) {
        int h = bits & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int fraction = h & 0x3ff;
        if (exponent == 0x1f) {
            // infinity or NaN: keep the payload's top bits, as a widening conversion does
            return Float.intBitsToFloat(sign | 0x7f800000 | (fraction << 13));
        }
        if (exponent == 0) {
            // zero or subnormal: fraction · 2^−24, exact in float32
            float magnitude = fraction * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (fraction << 13));
    }

    /** bfloat16 (the top half of a float32) to float32. */
    static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }
}
