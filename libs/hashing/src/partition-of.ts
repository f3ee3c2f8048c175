import { createHash } from 'node:crypto';

/**
 * Partition of a webhook: first 4 bytes of sha256(id), big-endian, mod P. Every node and every
 * release must agree on this, since it picks the `deliveries.<p>` subject and so the owner.
 */
export function partitionOf(webhookId: string, partitions: number): number {
  assertPartitionCount(partitions);
  return createHash('sha256').update(webhookId, 'utf8').digest().readUInt32BE(0) % partitions;
}

export function assertPartitionCount(partitions: number): void {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 0xffffffff) {
    throw new RangeError(`partitions must be an integer in 1..2^32-1, got ${partitions}`);
  }
}

/** A new cluster's partition count with partition routing: each partition is a durable consumer of its own. */
export const DEFAULT_PARTITIONS = 1024;
/**
 * A new cluster's partition count with node routing (the default routing): a partition costs NATS nothing,
 * and 16384 keeps a join or a leave within 1.2 x the ideal share up to 64 nodes (npm run sim:ring).
 */
export const DEFAULT_PARTITIONS_NODE_ROUTING = 16384;
/**
 * The most partitions with partition routing, where each is also a durable consumer: one node
 * holding 8192 takes 21 s to start and idles at 9 % of a core, nats-server 11 % (three servers:
 * about two cores).
 */
export const MAX_PARTITIONS_PARTITION_ROUTING = 8192;
