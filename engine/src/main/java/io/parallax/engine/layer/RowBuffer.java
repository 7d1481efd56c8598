package io.parallax.engine.layer;

import io.parallax.engine.backend.Backend;
import io.parallax.engine.tensor.Tensor;

/**
 * A reusable [rows, cols] workspace: grows when a bigger batch arrives and hands out a view of
 * the first {@code rows} rows otherwise, so steady-state training allocates nothing.
 */
public final class RowBuffer {

    private Tensor storage;

    /** A [rows, cols] view, reallocating only when the capacity or width does not fit. */
    public Tensor get(Backend backend, int rows, int cols) {
        if (storage == null || storage.cols() != cols || storage.rows() < rows || storage.backend() != backend) {
            storage = Tensor.zeros(backend, Math.max(rows, 1), cols);
        }
        return storage.rows(0, rows);
    }
}
