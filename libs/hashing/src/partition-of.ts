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

/** Partitions of a new cluster: enough that balanced ownership stays within 1.1 x the mean up to 64 nodes. */
export const DEFAULT_PARTITIONS = 1024;
