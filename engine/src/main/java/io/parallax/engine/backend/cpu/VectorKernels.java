package io.parallax.engine.backend.cpu;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The plain element-wise vector operations (fill, axpy, scale, multiply, clamp) in heap chunks
 * (see {@link Scratch}), so the JIT vectorises them. Each element gets the same float operations
 * in the same order as a scalar loop (Java never contracts a·b + c into an FMA), so results are
 * bit-identical to it. Operands may be the same region (y += α·y); partially overlapping
 * shifted views are not supported, as in PyTorch.
 */
final class VectorKernels {

    private VectorKernels() {}

    /** b[o, o + n) = value. */
    static void fill(FloatBuffer b, int o, int n, float value) {
        float[] a = Scratch.get().a;
        Arrays.fill(a, 0, Math.min(n, Scratch.CHUNK), value);
        for (int done = 0; done < n; done += Scratch.CHUNK) {
            b.put(o + done, a, 0, Math.min(Scratch.CHUNK, n - done));
        }
    }

    /** y += alpha·x. */
    static void axpy(float alpha, FloatBuffer x, int xo, FloatBuffer y, int yo, int n) {
        Scratch s = Scratch.get();
        float[] xs = s.a;
        float[] ys = s.b;
        for (int done = 0; done < n; done += Scratch.CHUNK) {
            int len = Math.min(Scratch.CHUNK, n - done);
            x.get(xo + done, xs, 0, len);
            y.get(yo + done, ys, 0, len);
            for (int i = 0; i < len; i++) {
                ys[i] = ys[i] + alpha * xs[i];
            }
            y.put(yo + done, ys, 0, len);
        }
    }

    /** b *= alpha. */
    static void scale(FloatBuffer b, int o, int n, float alpha) {
        float[] a = Scratch.get().a;
        for (int done = 0; done < n; done += Scratch.CHUNK) {
            int len = Math.min(Scratch.CHUNK, n - done);
            b.get(o + done, a, 0, len);
            for (int i = 0; i < len; i++) {
                a[i] = a[i] * alpha;
            }
            b.put(o + done, a, 0, len);
        }
    }

    /** out = a ⊙ b. */
    static void multiply(FloatBuffer a, int ao, FloatBuffer b, int bo, FloatBuffer out, int oo, int n) {
        Scratch s = Scratch.get();
        float[] as = s.a;
        float[] bs = s.b;
        for (int done = 0; done < n; done += Scratch.CHUNK) {
            int len = Math.min(Scratch.CHUNK, n - done);
            a.get(ao + done, as, 0, len);
            b.get(bo + done, bs, 0, len);
            for (int i = 0; i < len; i++) {
                as[i] = as[i] * bs[i];
            }
            out.put(oo + done, as, 0, len);
        }
    }

    /** b = min(max(b, low), high); NaN stays NaN, as torch.clamp. */
    static void clamp(FloatBuffer b, int o, int n, float low, float high) {
        float[] a = Scratch.get().a;
        for (int done = 0; done < n; done += Scratch.CHUNK) {
            int len = Math.min(Scratch.CHUNK, n - done);
            b.get(o + done, a, 0, len);
            for (int i = 0; i < len; i++) {
                a[i] = Math.min(Math.max(a[i], low), high);
            }
            b.put(o + done, a, 0, len);
        }
    }
}
