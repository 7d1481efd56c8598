package io.parallax.bench;

import java.util.List;
import java.util.Map;

/**
 * The optimizer configurations of the optimizer-step benchmark, built by their
 * {@code torch.optim} names through {@link io.parallax.engine.optim.Optimizers#create}, each with
 * the bytes one step touches per parameter.
 *
 * <p>The count is logical traffic, each array element read or written once per step: the
 * parameter is read and written (8 B), the gradient read (4 B), every state buffer read and
 * written (8 B each), so {@code 12 + 8 × buffers}. It leaves out the gradient's second read by the
 * NaN/∞ check that runs before any weight changes, and, on the tensor path, the copies through
 * the small host chunk buffers, which stay in cache:
 *
 * <pre>
 *   optimizer                      state buffers                                B per parameter
 *   SGD                            —                                            12
 *   SGD momentum 0.9               momentum_buffer                              20
 *   SGD nesterov, momentum 0.9     momentum_buffer                              20
 *   Adam                           exp_avg, exp_avg_sq                          28
 *   Adam amsgrad                   exp_avg, exp_avg_sq, max_exp_avg_sq          36
 *   AdamW                          exp_avg, exp_avg_sq                          28
 *   Adagrad                        sum                                          20
 *   Adadelta                       square_avg, acc_delta                        28
 *   RMSprop                        square_avg                                   20
 *   RMSprop centered, momentum     square_avg, momentum_buffer, grad_avg        36
 *   Adamax                         exp_avg, exp_inf                             28
 *   NAdam                          exp_avg, exp_avg_sq                          28
 *   FTRL                           accumulator, linear                          28
 * </pre>
 *
 * The benchmark checks each optimizer's exported state against the buffer count written here.
 */
final class OptimizerCases {

    /**
     * One configuration.
     *
     * @param label   the row's name in the table
     * @param name    the {@code Optimizers.create} name
     * @param hyper   hyperparameters under their torch/Keras names
     * @param buffers how many state buffers of the parameter's length the optimizer keeps
     */
    record Case(String label, String name, Map<String, ?> hyper, int buffers) {

        /** Bytes read plus written per parameter per step (see the class comment). */
        int bytesPerParameter() {
            return 12 + 8 * buffers;
        }
    }

    private OptimizerCases() {}

    /**
     * The headline configurations: every optimizer, with the options that add a state buffer or
     * change the loop. Weight decay is on where PyTorch's default has it (AdamW) and for FTRL's
     * l1/l2 terms; the loops compute the decay term either way, so it costs nothing extra.
     */
    static List<Case> headline() {
        return List.of(
                new Case("SGD", "sgd", Map.of("lr", 0.01), 0),
                new Case("SGD momentum 0.9", "sgd", Map.of("lr", 0.01, "momentum", 0.9), 1),
                new Case("SGD nesterov 0.9", "sgd", Map.of("lr", 0.01, "momentum", 0.9, "nesterov", true), 1),
                new Case("Adam", "adam", Map.of(), 2),
                new Case("Adam amsgrad", "adam", Map.of("amsgrad", true), 3),
                new Case("AdamW", "adamw", Map.of(), 2),
                new Case("Adagrad", "adagrad", Map.of(), 1),
                new Case("Adadelta", "adadelta", Map.of(), 2),
                new Case("RMSprop", "rmsprop", Map.of(), 1),
                new Case("RMSprop centered mom. 0.9", "rmsprop", Map.of("centered", true, "momentum", 0.9), 3),
                new Case("Adamax", "adamax", Map.of(), 2),
                new Case("NAdam", "nadam", Map.of(), 2),
                new Case("FTRL", "ftrl", Map.of("l1_regularization_strength", 0.001,
                        "l2_regularization_strength", 0.001), 2));
    }

    /**
     * FTRL with a learning-rate power other than −0.5: two {@code Math.pow} calls per element
     * (compute-bound, not a memory benchmark); run only with {@code --ftrl-pow}.
     */
    static Case ftrlPow() {
        return new Case("FTRL power −0.6 (Math.pow)", "ftrl", Map.of("learning_rate_power", -0.6), 2);
    }
}
