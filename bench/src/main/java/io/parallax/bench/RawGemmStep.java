package io.parallax.bench;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * The matrix products of one training step of an MLP, and nothing else: the exact
 * {@code cblas_sgemm} calls {@link io.parallax.engine.layer.Linear} makes (same shapes, same
 * transpose flags, same leading dimensions, row-major), on native buffers allocated once, with the
 * pointers created once. This is the ceiling the whole step is measured against.
 *
 * <p>Per layer l with input h (batch × in), weight W (out × in) and output gradient dy
 * (batch × out): forward y = h·Wᵀ (NoTrans, Trans); backward dW = dyᵀ·h (Trans, NoTrans) and,
 * for every layer but the first, dh = dy·W (NoTrans, NoTrans). The first layer's input gradient
 * is skipped, as the engine and PyTorch both skip it (nothing below the input needs it).
 */
final class RawGemmStep {

    private final int batch;
    private final int[] widths;
    private final FloatPointer[] activations; // activations[l] is layer l's input, batch × widths[l]
    private final FloatPointer[] weights;     // out × in
    private final FloatPointer[] weightGrads; // out × in
    private final FloatPointer[] outputGrads; // outputGrads[l] is dL/d(activations[l]), batch × widths[l]

    RawGemmStep(int batch, int... widths) {
        this.batch = batch;
        this.widths = widths.clone();
        int layers = widths.length - 1;
        activations = new FloatPointer[layers + 1];
        outputGrads = new FloatPointer[layers + 1];
        weights = new FloatPointer[layers];
        weightGrads = new FloatPointer[layers];
        java.util.SplittableRandom random = new java.util.SplittableRandom(1);
        for (int l = 0; l <= layers; l++) {
            activations[l] = filled((long) batch * widths[l], random);
            outputGrads[l] = filled((long) batch * widths[l], random);
        }
        for (int l = 0; l < layers; l++) {
            weights[l] = filled((long) widths[l + 1] * widths[l], random);
            weightGrads[l] = new FloatPointer((long) widths[l + 1] * widths[l]);
        }
    }

    private static FloatPointer filled(long n, java.util.SplittableRandom random) {
        float[] values = new float[Math.toIntExact(n)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextDouble() - 0.5);
        }
        return new FloatPointer(values);
    }

    /** Forward products, then backward from the top layer down. */
    void run() {
        int layers = widths.length - 1;
        for (int l = 0; l < layers; l++) {
            int in = widths[l];
            int out = widths[l + 1];
            openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
                    openblas_nolapack.CblasTrans, batch, out, in, 1f, activations[l], in, weights[l], in,
                    0f, activations[l + 1], out);
        }
        for (int l = layers - 1; l >= 0; l--) {
            int in = widths[l];
            int out = widths[l + 1];
            openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasTrans,
                    openblas_nolapack.CblasNoTrans, out, in, batch, 1f, outputGrads[l + 1], out,
                    activations[l], in, 0f, weightGrads[l], in);
            if (l > 0) {
                openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
                        openblas_nolapack.CblasNoTrans, batch, in, out, 1f, outputGrads[l + 1], out,
                        weights[l], in, 0f, outputGrads[l], in);
            }
        }
    }

    /** Floating-point operations of {@link #run()} (2·m·n·k per product). */
    double flops() {
        double total = 0;
        for (int l = 0; l < widths.length - 1; l++) {
            double mnk = 2.0 * batch * widths[l] * widths[l + 1];
            total += l > 0 ? 3 * mnk : 2 * mnk;
        }
        return total;
    }
}
