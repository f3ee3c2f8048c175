import { Injectable } from '@nestjs/common';
import type { PartitionOwnership } from './partition-ownership';

/** Nest token of the send-path fence: may this node deliver partition p at this very moment? */
export const PARTITION_FENCE = Symbol('PARTITION_FENCE');

export interface PartitionFence {
  /** May a send start now? */
  mayDeliver(partition: number): boolean;
  /** May a send already in flight go on? (True also while the partition is handed back gracefully.) */
  mayContinue(partition: number): boolean;
}

/** For a dispatcher built without a node around it (unit tests): every partition is ours. */
export const UNFENCED: PartitionFence = { mayDeliver: () => true, mayContinue: () => true };

/**
 * The fence of this node: asks the partition ownership once the node has started it, and refuses
 * every partition before that (nothing may be sent for a partition nobody has leased).
 */
@Injectable()
export class OwnershipFence implements PartitionFence {
  private ownership?: PartitionOwnership;

  use(ownership: PartitionOwnership): void {
    this.ownership = ownership;
  }

  mayDeliver(partition: number): boolean {
    return this.ownership?.mayDeliver(partition) ?? false;
  }

  mayContinue(partition: number): boolean {
    return this.ownership?.mayContinue(partition) ?? false;
  }
}
