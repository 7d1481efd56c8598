package io.parallax.bench;

import static org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.cblas_sgemm;

import java.util.Locale;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * Raw {@code cblas_sgemm} on 1 thread for the shapes of the 784-256-128-10 step at batch 128, in
 * both output orientations and all four transpose combinations: which formulation of the same
 * product OpenBLAS runs fastest (a lead for the engine's activation layout; see bench/README.md).
 * Prints one line per variant, the best of 7 repetitions.
 */
public final class GemmVariants {

    private GemmVariants() {}

    private static double bestMicros(int ta, int tb, int m, int n, int k, int calls) {
        FloatPointer a = new FloatPointer((long) m * k);
        FloatPointer b = new FloatPointer((long) k * n);
        FloatPointer c = new FloatPointer((long) m * n);
        for (long i = 0; i < (long) m * k; i++) {
            a.put(i, (float) Math.sin(i));
        }
        for (long i = 0; i < (long) k * n; i++) {
            b.put(i, (float) Math.cos(i));
        }
        int lda = ta == CblasNoTrans ? k : m;
        int ldb = tb == CblasNoTrans ? n : k;
        for (int i = 0; i < calls / 4; i++) {
            cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1f, a, lda, b, ldb, 0f, c, n);
        }
        double best = Double.MAX_VALUE;
        for (int r = 0; r < 7; r++) {
            long t = System.nanoTime();
            for (int i = 0; i < calls; i++) {
                cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1f, a, lda, b, ldb, 0f, c, n);
            }
            best = Math.min(best, (System.nanoTime() - t) / 1e3 / calls);
        }
        a.close();
        b.close();
        c.close();
        return best;
    }

    public static void main(String[] args) {
        openblas_nolapack.blas_set_num_threads(1);
        int[][] shapes = {{128, 256, 784}, {256, 128, 784}, {256, 784, 128}, {784, 256, 128},
                          {128, 128, 256}, {128, 256, 128}, {256, 128, 128}};
        int[] transposes = {CblasNoTrans, CblasTrans};
        System.out.println("| M | N | K | A, B | µs (best of 7) | GFLOP/s |");
        System.out.println("|---:|---:|---:|---|---:|---:|");
        for (int[] s : shapes) {
            for (int ta : transposes) {
                for (int tb : transposes) {
                    double us = bestMicros(ta, tb, s[0], s[1], s[2], 300);
                    System.out.printf(Locale.ROOT, "| %d | %d | %d | %s%s | %.1f | %.0f |%n", s[0], s[1], s[2],
                            ta == CblasNoTrans ? "N" : "T", tb == CblasNoTrans ? "N" : "T", us,
                            2.0 * s[0] * s[1] * s[2] / us / 1e3);
                }
            }
        }
    }
}
