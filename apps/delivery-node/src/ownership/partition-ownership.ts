/** Which partitions this node delivers now, and how it learns of changes. */
export interface OwnershipChange {
  gained: number[];
  lost: number[];
}

/**
 * Applies a change: stops the lost partitions (before their leases may be released) and starts the
 * gained ones; returns the gained partitions it could not start, which stay unowned for a retry.
 */
export type OwnershipHandler = (change: OwnershipChange) => Promise<number[] | void>;

export abstract class PartitionOwnership {
  abstract readonly partitions: number;
  abstract owned(): ReadonlySet<number>;
  abstract onChange(handler: OwnershipHandler): void;
  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;

  /**
   * Checked right before each send (fencing): may this node deliver the partition at this moment?
   * Leased ownership also refuses once the lease is too old to be sure nobody else has it.
   */
  mayDeliver(partition: number): boolean {
    return this.owned().has(partition);
  }

  /**
   * Checked while a send is in flight: may it go on? Unlike `mayDeliver` this stays true while the
   * partition is being handed back (rebalance, shutdown), whose sends are answered and recorded before
   * the lease goes: cutting them would leave requests the consumer may have accepted recorded as
   * failed, to be sent again by the next owner. Leased ownership refuses once its fence trips.
   */
  mayContinue(partition: number): boolean {
    return this.mayDeliver(partition);
  }

  /** The node the partition is (or is about to be) delivered by, as far as this node knows; undefined: not known. */
  assignedOwner(partition: number): string | undefined {
    return this.owned().has(partition) ? this.self : undefined;
  }

  /** Ids of the cluster's live delivery nodes (this one included); empty without membership. */
  liveMembers(): readonly string[] {
    return [];
  }

  abstract readonly self: string;

  /** Partition -> ms since its lease was last renewed (none without leases). */
  leaseAges(): Map<number, number> {
    return new Map();
  }
}
