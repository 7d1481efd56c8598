/**
 * The runnable distribution and the {@code trainer} launcher. Filled in by later issues; the
 * module exists from the start so the layout is final.
 */
package io.parallax.deploy;
