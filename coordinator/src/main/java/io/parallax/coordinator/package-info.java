/**
 * The coordinator: splits each mini-batch across live workers, aggregates their gradients,
 * applies the optimizer and serves the job API. Filled in by the distributed-training issue; the
 * module exists from the start so the layout is final.
 */
package io.parallax.coordinator;
