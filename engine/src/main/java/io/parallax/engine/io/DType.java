package io.parallax.engine.io;

/**
 * Element types of the safetensors format, with their names as the header spells them and their
 * sizes in bytes. Every fixed-size type of the specification is known, so that the header of any
 * well-formed file can be validated; which ones can be <em>converted</em> to Java values is said
 * by {@link #readableAsFloat()} and {@link #readableAsLong()}.
 *
 * <p>The declaration order is the Rust reference implementation's: it orders by alignment, and
 * the writer lays tensors out by descending dtype, then by name, as that implementation does.
 */
public enum DType {
    BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1), I16(2), U16(2), F16(2), BF16(2), I32(4), U32(4), F32(4),
    F64(8), I64(8), U64(8);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** Whether {@link SafeTensorsReader#readFloats} converts this type (F32, F16 and BF16 exactly; F64 rounded). */
    public boolean readableAsFloat() {
        return this == F32 || this == F64 || this == F16 || this == BF16;
    }

    /** Whether {@link SafeTensorsReader#readLongs} converts this type (I64, I32, U8 without loss). */
    public boolean readableAsLong() {
        return this == I64 || this == I32 || this == U8;
    }

    /** The type named {@code name} in a header, or null when the name is not a known dtype. */
    static DType parse(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }
}
