import { Injectable } from '@nestjs/common';
import { deliverySubject, mailboxSubject, TaskRouting } from '@app/messaging';
import type { PartitionOwnership } from '../ownership/partition-ownership';

/**
 * Where fan-out publishes a partition's delivery tasks. Partition routing: the partition's subject,
 * read by its durable consumer on whichever node holds it. Node routing: the mailbox of the node the
 * balanced assignment gives the partition to; a node that gets a task for a partition it does not
 * hold (a membership change under way) hands it to the due-time queue, where the holder finds it.
 */
@Injectable()
export class TaskRouter {
  private subjectOf: (partition: number) => string = deliverySubject;
  routing: TaskRouting = 'partition';

  use(routing: TaskRouting, ownership: PartitionOwnership): void {
    this.routing = routing;
    const mailboxes = new Map<string, string>();
    const mailbox = (node: string) => mailboxes.get(node) ?? mailboxes.set(node, mailboxSubject(node)).get(node)!;
    this.subjectOf = routing === 'node' ? (p) => mailbox(ownership.assignedOwner(p) ?? ownership.self) : deliverySubject;
  }

  subject(partition: number): string {
    return this.subjectOf(partition);
  }
}
