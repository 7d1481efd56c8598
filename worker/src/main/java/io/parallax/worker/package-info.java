/**
 * Worker nodes: Akka typed actors that each hold a replica of the network and compute gradients
 * on their shard of every mini-batch. Filled in by the distributed-training issue; the module
 * exists from the start so the layout is final.
 */
package io.parallax.worker;
