package io.parallax.bench;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.tensor.Tensor;

/**
 * The step's backend calls in isolation, on tensors of the step's shapes: the eight GEMMs as
 * {@link io.parallax.engine.layer.Linear} issues them through {@link Backend#gemm} (compared with
 * {@link RawGemmStep}, this shows what the engine's wrapper costs: shape checks and a JavaCPP
 * pointer object per operand), the bias adds and the bias-gradient column sums.
 */
final class StepKernels {

    private final Backend backend;
    private final int layers;
    private final Tensor[] activations;
    private final Tensor[] grads;
    private final Tensor[] weights;
    private final Tensor[] weightGrads;
    private final Tensor[] biases;

    StepKernels(Backend backend, int batch, int... widths) {
        this.backend = backend;
        layers = widths.length - 1;
        activations = new Tensor[layers + 1];
        grads = new Tensor[layers + 1];
        weights = new Tensor[layers];
        weightGrads = new Tensor[layers];
        biases = new Tensor[layers];
        for (int l = 0; l <= layers; l++) {
            activations[l] = Tensor.zeros(backend, batch, widths[l]);
            grads[l] = Tensor.zeros(backend, batch, widths[l]);
        }
        for (int l = 0; l < layers; l++) {
            weights[l] = Tensor.zeros(backend, widths[l + 1], widths[l]);
            weightGrads[l] = Tensor.zeros(backend, widths[l + 1], widths[l]);
            biases[l] = Tensor.zeros(backend, widths[l + 1]);
        }
    }

    /** The GEMMs of {@link RawGemmStep#run()}, through the backend interface. */
    void gemms() {
        for (int l = 0; l < layers; l++) {
            backend.gemm(false, true, 1f, activations[l], weights[l], 0f, activations[l + 1]);
        }
        for (int l = layers - 1; l >= 0; l--) {
            backend.gemm(true, false, 1f, grads[l + 1], activations[l], 0f, weightGrads[l]);
            if (l > 0) {
                backend.gemm(false, false, 1f, grads[l + 1], weights[l], 0f, grads[l]);
            }
        }
    }

    /** Every layer's bias add on its output. */
    void biasAdds() {
        for (int l = 0; l < layers; l++) {
            backend.addRowVector(activations[l + 1], biases[l]);
        }
    }

    /** Every layer's bias gradient. */
    void biasGrads() {
        for (int l = 0; l < layers; l++) {
            backend.sumRows(grads[l + 1], 0f, biases[l]);
        }
    }
}
