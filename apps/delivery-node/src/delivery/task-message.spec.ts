import { randomUUID } from 'node:crypto';
import type { DeliveryTask } from '@app/messaging';
import { readTaskMessage } from './task-message';

const task = (): DeliveryTask => ({
  event_id: randomUUID(),
  webhook_id: randomUUID(),
  account_id: randomUUID(),
  type: 'identity.approved',
  time: new Date().toISOString(),
  is_test: false,
});
const bytes = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

describe('readTaskMessage', () => {
  it('reads a single task (as the config service writes) and a batch (as fan-out writes)', () => {
    const one = task();
    expect(readTaskMessage(bytes(one))).toEqual({ tasks: [one], invalid: 0, recheck: false });
    const many = [task(), task()];
    expect(readTaskMessage(bytes({ tasks: many }))).toEqual({ tasks: many, invalid: 0, recheck: false });
    expect(readTaskMessage(bytes({ tasks: many, recheck: true }))?.recheck).toBe(true);
    expect(readTaskMessage(bytes({ tasks: many, recorded_at: 1795958400303.5 }))?.recordedAt).toBe(1795958400303.5);
    for (const recorded_at of ['1795958400303', null, {}]) expect(readTaskMessage(bytes({ tasks: many, recorded_at }))).not.toHaveProperty('recordedAt');
  });

  it('leaves out the entries of a batch that are not tasks, and counts them', () => {
    const good = task();
    expect(readTaskMessage(bytes({ tasks: [{ ...task(), event_id: 'x' }, good, null, 7] }))).toEqual({ tasks: [good], invalid: 3, recheck: false });
  });

  it('finds no task in anything else', () => {
    for (const body of ['{"tasks": [', 'null', '[]', '"text"', { tasks: [] }, { tasks: [{}] }, { ...task(), time: 'yesterday' }, { tasks: 'x' }]) {
      expect(readTaskMessage(bytes(body))).toBeUndefined();
    }
  });
});
