import { Injectable } from '@nestjs/common';
import { partitionOf } from '@app/hashing';
import { checkEvent, ValidEvent } from '@app/domain';
import type { DeliveryTask } from '@app/messaging';
import { Database } from '../database';
import { WebhookIndex } from '../webhook-index/webhook-index';

export interface RawEvent {
  subject: string;
  data: string;
}

export interface FanoutPlan {
  /** Index-aligned with the input: null when the event is accepted, else why it goes aside. */
  rejected: ({ code: string; reason: string } | null)[];
  tasks: { partition: number; task: DeliveryTask }[];
}

/**
 * Turns a batch of published events into delivery tasks: checks each against the contract, records
 * the valid ones and one delivery row per subscribed webhook (idempotently, so a re-run after a
 * crash adds nothing), and returns the tasks to publish.
 */
@Injectable()
export class FanoutService {
  private readonly knownAccounts = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly index: WebhookIndex,
  ) {}

  async plan(batch: RawEvent[], partitions: number): Promise<FanoutPlan> {
    const rejected: FanoutPlan['rejected'] = [];
    const valid: { i: number; event: ValidEvent }[] = [];
    batch.forEach((raw, i) => {
      const check = checkEvent(raw.data, raw.subject.startsWith('events.') ? raw.subject.slice('events.'.length) : undefined);
      rejected.push(check.ok ? null : { code: check.code, reason: check.reason });
      if (check.ok) valid.push({ i, event: check.event });
    });
    await this.loadAccounts(valid.map((v) => v.event.account_id));
    const accepted = valid.filter(({ i, event }) => {
      if (this.knownAccounts.has(event.account_id)) return true;
      rejected[i] = { code: 'unknown-account', reason: `account ${event.account_id} does not exist` };
      return false;
    });
    const tasks: FanoutPlan['tasks'] = [];
    for (const { event } of accepted) {
      for (const w of this.index.subscribers(event.account_id, event.type)) {
        tasks.push({
          partition: partitionOf(w.id, partitions),
          task: { event_id: event.id, webhook_id: w.id, account_id: event.account_id, type: event.type, time: event.time, is_test: false },
        });
      }
    }
    await this.record(accepted.map((a) => a.event), tasks);
    return { rejected, tasks };
  }

  private async loadAccounts(ids: string[]): Promise<void> {
    const unknown = [...new Set(ids)].filter((id) => !this.knownAccounts.has(id));
    if (!unknown.length) return;
    const rows = await this.db.query<{ id: string }>('select id from accounts where id = any($1::uuid[])', [unknown]);
    for (const r of rows) this.knownAccounts.add(r.id); // accounts are never deleted while events flow
  }

  private async record(events: ValidEvent[], tasks: FanoutPlan['tasks']): Promise<void> {
    if (!events.length) return;
    await this.db.transaction(async (client) => {
      await client.query(
        `insert into events (id, account_id, type, object_type, object, is_test, created_at)
         select id, account_id, type, object_type, object, false, created_at
         from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[]) as t(id, account_id, type, object_type, object, created_at)
         on conflict (id) do nothing`,
        [events.map((e) => e.id), events.map((e) => e.account_id), events.map((e) => e.type), events.map((e) => e.object_type), events.map((e) => JSON.stringify(e.object)), events.map((e) => e.time)],
      );
      if (tasks.length) {
        await client.query(
          `insert into deliveries (event_id, webhook_id, account_id, partition)
           select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[])
           on conflict do nothing`,
          [tasks.map((t) => t.task.event_id), tasks.map((t) => t.task.webhook_id), tasks.map((t) => t.task.account_id), tasks.map((t) => t.partition)],
        );
      }
    });
  }
}
