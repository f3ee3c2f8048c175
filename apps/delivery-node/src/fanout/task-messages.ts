import { createHash } from 'node:crypto';
import { deliveryMsgId, deliverySubject, type DeliveryTaskBatch } from '@app/messaging';
import type { PlannedTask } from './fanout.service';
import type { StreamMessage } from './task-publisher';

/** Deliveries per message at most (about 25 KB). */
export const TASKS_PER_MESSAGE = 100;

/** A message to publish, with the indexes (into the planned tasks) of the deliveries it carries. */
export interface TaskMessage extends StreamMessage {
  members: number[];
}

/**
 * The messages that carry a fan-out's planned tasks: one per subject (a partition's, or with node
 * routing a node's mailbox; rechecked copies apart), in plan order, at most `perMessage` deliveries
 * each. The id is a digest of the deliveries carried, so publishing the same plan again stores nothing new.
 */
export function taskMessages(tasks: readonly PlannedTask[], subjectOf: (partition: number) => string = deliverySubject, perMessage = TASKS_PER_MESSAGE): TaskMessage[] {
  const groups = new Map<string, number[]>();
  tasks.forEach((t, i) => {
    const key = `${subjectOf(t.partition)}\n${t.recheck}`;
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  });
  const out: TaskMessage[] = [];
  for (const [key, group] of groups) {
    for (let from = 0; from < group.length; from += perMessage) {
      const members = group.slice(from, from + perMessage);
      const first = tasks[members[0]];
      const body: DeliveryTaskBatch = { tasks: members.map((i) => tasks[i].task) };
      if (first.recheck) body.recheck = true;
      const recordedAt = earliestRecording(tasks, members);
      if (recordedAt !== undefined) body.recorded_at = recordedAt;
      let ids = '';
      for (const i of members) ids += `${deliveryMsgId(tasks[i].task.event_id, tasks[i].task.webhook_id)},`;
      const digest = createHash('sha256').update(ids).digest('base64url');
      out.push({ subject: key.slice(0, key.indexOf('\n')), data: JSON.stringify(body), msgId: `tasks:${first.recheck ? 'r:' : ''}${digest}`, members });
    }
  }
  return out;
}

/** The earliest time the members' rows were written; undefined when one of them does not say. */
function earliestRecording(tasks: readonly PlannedTask[], members: number[]): number | undefined {
  let earliest = Infinity;
  for (const i of members) {
    const at = tasks[i].recordedAt;
    if (at === undefined) return undefined;
    if (at < earliest) earliest = at;
  }
  return earliest;
}
