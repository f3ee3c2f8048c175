/** Which partitions this node delivers now, and how it learns of changes. */
export interface OwnershipChange {
  gained: number[];
  lost: number[];
}

export abstract class PartitionOwnership {
  abstract readonly partitions: number;
  abstract owned(): ReadonlySet<number>;
  /** The handler must finish (stop pulling, hand back work) before a lost lease is released. */
  abstract onChange(handler: (change: OwnershipChange) => Promise<void>): void;
  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;

  /**
   * Checked right before each send (fencing): may this node deliver the partition at this moment?
   * Leased ownership also refuses once the lease is too old to be sure nobody else has it.
   */
  mayDeliver(partition: number): boolean {
    return this.owned().has(partition);
  }
}
