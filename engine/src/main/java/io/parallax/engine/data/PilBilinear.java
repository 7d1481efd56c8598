package io.parallax.engine.data;

/**
 * Pillow's {@code Image.resize(size, Image.BILINEAR)} on 8-bit images, bit for bit: what
 * torchvision's {@code transforms.Resize} does to the PIL images its {@code ImageFolder} loads,
 * so a model trained on resized images gets the inputs a PyTorch pipeline would give it.
 *
 * <p>Pillow resamples in two separable passes — across, then down, each skipped when that size
 * does not change — with a triangle filter widened by the shrink factor (an antialiasing average
 * when shrinking, plain bilinear interpolation when enlarging), its weights normalised and held in
 * 22-bit fixed point, and every pass rounded and clipped to 0–255 ({@code libImaging/Resample.c}:
 * {@code precompute_coeffs}, {@code normalize_coeffs_8bpc}, {@code ImagingResampleHorizontal_8bpc},
 * {@code ImagingResampleVertical_8bpc}). Checked against Pillow 9.4 in {@code PilBilinearTest}.
 */
final class PilBilinear {

    /** Fixed-point fraction bits of the weights: 32 − 8 (the value) − 2 (headroom). */
    private static final int PRECISION_BITS = 32 - 8 - 2;

    private PilBilinear() {}

    /** One pass's weights: output i reads {@code count[i]} inputs from {@code first[i]} with weights {@code k[i·ksize …]}. */
    private record Weights(int ksize, int[] first, int[] count, int[] k) {}

    /**
     * Resizes each channel plane of {@code src} (channels-first, values 0–255, rounded to whole
     * values first) from srcH × srcW to dstH × dstW.
     */
    static float[] resize(float[] src, int channels, int srcH, int srcW, int dstH, int dstW) {
        Weights across = srcW == dstW ? null : weights(srcW, dstW);
        Weights down = srcH == dstH ? null : weights(srcH, dstH);
        float[] out = new float[channels * dstH * dstW];
        int[] plane = new int[srcH * srcW];
        for (int c = 0; c < channels; c++) {
            for (int i = 0; i < plane.length; i++) {
                // Math.round, as clamped to 0–255 (where a negative value rounds to 0 either way);
                // Math.round(float) itself is not an intrinsic and took more time than the resize
                plane[i] = Math.max(0, Math.min(255, (int) (src[c * srcH * srcW + i] + 0.5f)));
            }
            int[] wide = across == null ? plane : horizontal(plane, srcH, srcW, dstW, across);
            int[] done = down == null ? wide : vertical(wide, srcH, dstW, dstH, down);
            for (int i = 0; i < done.length; i++) {
                out[c * dstH * dstW + i] = done[i];
            }
        }
        return out;
    }

    /** {@code precompute_coeffs} and {@code normalize_coeffs_8bpc} for the bilinear filter (support 1). */
    private static Weights weights(int inSize, int outSize) {
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(1.0, scale);
        double support = 1.0 * filterScale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        int[] first = new int[outSize];
        int[] count = new int[outSize];
        int[] k = new int[outSize * ksize];
        double[] w = new double[ksize];
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            double ss = 1.0 / filterScale;
            // C's (int) truncates toward zero, as Java's cast does
            int xmin = Math.max(0, (int) (center - support + 0.5));
            int xmax = Math.min(inSize, (int) (center + support + 0.5)) - xmin;
            double ww = 0;
            for (int x = 0; x < xmax; x++) {
                w[x] = triangle((x + xmin - center + 0.5) * ss);
                ww += w[x];
            }
            for (int x = 0; x < xmax; x++) {
                double v = ww != 0.0 ? w[x] / ww : w[x];
                k[xx * ksize + x] = v < 0 ? (int) (-0.5 + v * (1 << PRECISION_BITS))
                        : (int) (0.5 + v * (1 << PRECISION_BITS));
            }
            first[xx] = xmin;
            count[xx] = xmax;
        }
        return new Weights(ksize, first, count, k);
    }

    private static double triangle(double x) {
        double a = Math.abs(x);
        return a < 1.0 ? 1.0 - a : 0.0;
    }

    private static int[] horizontal(int[] in, int rows, int inW, int outW, Weights wt) {
        int[] out = new int[rows * outW];
        for (int y = 0; y < rows; y++) {
            for (int xx = 0; xx < outW; xx++) {
                int sum = 1 << (PRECISION_BITS - 1);
                int base = xx * wt.ksize();
                for (int x = 0; x < wt.count()[xx]; x++) {
                    sum += in[y * inW + wt.first()[xx] + x] * wt.k()[base + x];
                }
                out[y * outW + xx] = clip8(sum);
            }
        }
        return out;
    }

    private static int[] vertical(int[] in, int inH, int cols, int outH, Weights wt) {
        int[] out = new int[outH * cols];
        for (int yy = 0; yy < outH; yy++) {
            int base = yy * wt.ksize();
            for (int x = 0; x < cols; x++) {
                int sum = 1 << (PRECISION_BITS - 1);
                for (int y = 0; y < wt.count()[yy]; y++) {
                    sum += in[(wt.first()[yy] + y) * cols + x] * wt.k()[base + y];
                }
                out[yy * cols + x] = clip8(sum);
            }
        }
        return out;
    }

    private static int clip8(int v) {
        if (v >= (1 << PRECISION_BITS << 8)) {
            return 255;
        }
        return v <= 0 ? 0 : v >> PRECISION_BITS;
    }
}
