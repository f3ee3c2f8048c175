import { randomUUID } from 'node:crypto';
import type { DeliveryTaskBatch } from '@app/messaging';
import type { PlannedTask } from './fanout.service';
import { taskMessages } from './task-messages';

const planned = (partition: number, recheck = false, source = 0): PlannedTask => ({
  source,
  partition,
  recheck,
  claimed: false,
  task: { event_id: randomUUID(), webhook_id: randomUUID(), account_id: randomUUID(), type: 'identity.approved', time: new Date().toISOString(), is_test: false },
});

describe('taskMessages', () => {
  it('carries every planned task exactly once, one message per partition, rechecked copies apart, in plan order', () => {
    const tasks = [planned(3), planned(1), planned(3), planned(3, true), planned(1), planned(3)];
    const messages = taskMessages(tasks);
    expect(messages.map((m) => [m.subject, m.members])).toEqual([
      ['deliveries.3', [0, 2, 5]],
      ['deliveries.1', [1, 4]],
      ['deliveries.3', [3]],
    ]);
    for (const m of messages) {
      const body = JSON.parse(m.data as string) as DeliveryTaskBatch;
      expect(body.tasks).toEqual(m.members.map((i) => tasks[i].task));
      expect(body.recheck === true).toBe(tasks[m.members[0]].recheck);
    }
  });

  it('with node routing, one message per owner node: the partitions of one node share its mailbox', () => {
    const owner = (p: number) => `deliveries.node.${p % 2 ? 'b' : 'a'}`;
    const tasks = [planned(3), planned(2), planned(1), planned(4), planned(1, true)];
    expect(taskMessages(tasks, owner).map((m) => [m.subject, m.members])).toEqual([
      ['deliveries.node.b', [0, 2]],
      ['deliveries.node.a', [1, 3]],
      ['deliveries.node.b', [4]],
    ]);
  });

  it('says when the rows of its deliveries were written: the earliest of them, and nothing when one of them does not say', () => {
    const at = (t: PlannedTask, recordedAt?: number): PlannedTask => ({ ...t, recordedAt });
    const [m1, m2] = taskMessages([at(planned(0), 2000), at(planned(0), 1000), at(planned(1), 1000), at(planned(1))]);
    expect((JSON.parse(m1.data as string) as DeliveryTaskBatch).recorded_at).toBe(1000);
    expect(JSON.parse(m2.data as string)).not.toHaveProperty('recorded_at'); // then the copy is checked
  });

  it('cuts a partition into messages of at most the given size', () => {
    const tasks = Array.from({ length: 7 }, () => planned(0));
    expect(taskMessages(tasks, undefined, 3).map((m) => m.members)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  it('names a message by the deliveries it carries: the same plan again gets the same ids, another grouping other ids', () => {
    const tasks = [planned(0), planned(0), planned(1)];
    const ids = taskMessages(tasks).map((m) => m.msgId);
    expect(taskMessages(tasks.map((t) => ({ ...t }))).map((m) => m.msgId)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(taskMessages(tasks.slice(1)).map((m) => m.msgId)).not.toContain(ids[0]);
    expect(taskMessages(tasks.map((t) => ({ ...t, recheck: true }))).map((m) => m.msgId)).not.toContain(ids[0]);
  });
});
