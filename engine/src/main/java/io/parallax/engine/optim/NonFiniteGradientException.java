package io.parallax.engine.optim;

/**
 * A gradient element was NaN or infinite, so the optimizer refused the step before changing
 * any weight or state. Names the element's flat index, its segment and its index within it.
 */
public final class NonFiniteGradientException extends ArithmeticException {

    private static final long serialVersionUID = 1L;

    private final long index;
    private final String segment;
    private final float value;

    NonFiniteGradientException(long index, ParameterGroups.Segment segment, float value) {
        super("gradient holds " + value + " at flat index " + index + " (segment '" + segment.name()
                + "', element " + (index - segment.offset()) + " of " + segment.length()
                + "); the step was not applied. Check the loss and learning rate, clip gradients, "
                + "or enable skipping of non-finite steps");
        this.index = index;
        this.segment = segment.name();
        this.value = value;
    }

    /** Index of the first non-finite element in the flat gradient. */
    public long index() {
        return index;
    }

    /** Name of the segment holding it. */
    public String segment() {
        return segment;
    }

    /** The offending value (NaN or ±∞). */
    public float value() {
        return value;
    }
}
