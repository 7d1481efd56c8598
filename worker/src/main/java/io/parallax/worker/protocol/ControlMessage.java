package io.parallax.worker.protocol;

/**
 * Marker for messages that cross the Akka cluster: small control messages (step commands,
 * acknowledgements, metrics), serialized with Jackson CBOR (see reference.conf). Tensors never
 * travel this way; they use the tensor plane.
 */
public interface ControlMessage {}
