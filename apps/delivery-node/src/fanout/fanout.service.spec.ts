import { randomUUID } from 'node:crypto';
import type { AccountsRepository, EventsRepository } from '@app/persistence';
import type { Database } from '../database';
import { WebhookIndex } from '../webhook-index/webhook-index';
import { FanoutService } from './fanout.service';

describe('FanoutService.plan', () => {
  const account = randomUUID();
  const hooks = [randomUUID(), randomUUID()];
  const index = new WebhookIndex();
  for (const id of hooks) {
    index.apply({
      kind: 'put',
      webhook: { id, account_id: account, status: 'ACTIVE', event_types: ['identity.*'], url: 'https://example.com/h', rate_limit: 10, version: 1 } as never,
    });
  }
  const recorded: { deliveries: number }[] = [];
  const events = {
    recordEventsWithDeliveries: async (_events: unknown[], deliveries: unknown[]) => {
      recorded.push({ deliveries: deliveries.length });
      return { foreign: new Set<string>(), repeated: new Set<string>(), recordedAt: 1_795_958_400_000 };
    },
  } as unknown as EventsRepository;
  const accounts = { findExistingIds: async (ids: string[]) => ids } as unknown as AccountsRepository;
  const service = new FanoutService({} as Database, accounts, events, index);
  const raw = (id: string) => ({
    subject: 'events.identity.approved',
    data: JSON.stringify({
      id,
      account_id: account,
      type: 'identity.approved',
      time: new Date().toISOString(),
      object_type: 'identity_summary_status_change',
      object: { identity_id: 'x' },
    }),
  });

  it('plans one event published twice into one batch once: two first copies of a delivery could both be sent unchecked', async () => {
    const id = randomUUID();
    const plan = await service.plan([raw(id), raw(id), raw(randomUUID())], 16);
    expect(plan.rejected).toEqual([null, null, null]);
    const keys = plan.tasks.map((t) => `${t.task.event_id}:${t.task.webhook_id}`);
    expect(keys).toHaveLength(4);
    expect(new Set(keys).size).toBe(4);
    expect(recorded.at(-1)).toEqual({ deliveries: 4 });
  });

  it("stamps each task with the time its row was written, by the database's clock", async () => {
    const plan = await service.plan([raw(randomUUID())], 16);
    expect(plan.tasks.map((t) => t.recordedAt)).toEqual([1_795_958_400_000, 1_795_958_400_000]);
  });
});
