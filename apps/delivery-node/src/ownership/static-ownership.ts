import { OwnershipHandler, PartitionOwnership } from './partition-ownership';

/** Every partition, for a node that runs alone. */
export class StaticOwnership extends PartitionOwnership {
  private readonly all: Set<number>;
  private handler?: OwnershipHandler;

  constructor(
    readonly partitions: number,
    readonly self: string,
  ) {
    super();
    this.all = new Set(Array.from({ length: partitions }, (_, i) => i));
  }

  owned(): ReadonlySet<number> {
    return this.all;
  }

  onChange(handler: OwnershipHandler): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    await this.handler?.({ gained: [...this.all], lost: [] });
  }

  async stop(): Promise<void> {
    await this.handler?.({ gained: [], lost: [...this.all] });
  }
}
