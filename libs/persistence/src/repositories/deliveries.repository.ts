import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import type { SqlClient, SqlDatabase } from './sql-database';
import { intArray, uuidArray } from './sql-arrays';

/** A delivery row to create: one event to one webhook. */
export interface NewDelivery {
  eventId: string;
  webhookId: string;
  accountId: string;
  partition: number;
  /**
   * Claimed at insert by the node that will send it at once: the row is due this many seconds from
   * now, so if that node dies first the due-time queue takes it from there (as with a claim of
   * `claimDue`). Unset: the row waits for its task (no due time).
   */
  claimSeconds?: number;
}

/** A delivery claimed by `claimDue`, with what its task needs from its event. */
export interface DueDelivery {
  event_id: string;
  webhook_id: string;
  account_id: string;
  partition: number;
  attempts: number;
  first_attempt_at: Date | null;
  type: string;
  created_at: Date;
  is_test: boolean;
  /** The claim's moment on the database's clock: an attempt of it starts after this. */
  claimed_at: Date;
}

export interface ClaimDueOptions {
  partitions: number[];
  /** Rows claimed at most, and webhooks served at most, per call. */
  limit: number;
  /** A claimed row is invisible to other claims this long. */
  leaseSeconds: number;
  /** Webhooks to leave out (their lanes are full). */
  skipWebhooks: string[];
  /** Rows claimed per webhook at most. */
  perWebhook: number;
}

/** A delivery row's key, with its creation time for paging. */
export interface DeliveryPagePosition {
  created_at: Date;
  event_id: string;
  webhook_id: string;
}

/** The `deliveries` table: one row per event and subscribed webhook, its state and due time. */
export class DeliveriesRepository {
  constructor(private readonly db: SqlDatabase) {}

  /** Inserts the rows not there yet, in one statement, on `client` (inside the caller's transaction). */
  async insertNewWithin(client: SqlClient, rows: NewDelivery[]): Promise<void> {
    await client.query(
      `insert into deliveries (event_id, webhook_id, account_id, partition)
           select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[])
           on conflict do nothing`,
      [uuidArray(rows.map((r) => r.eventId)), uuidArray(rows.map((r) => r.webhookId)), uuidArray(rows.map((r) => r.accountId)), intArray(rows.map((r) => r.partition))],
    );
  }

  /**
   * Claims due PENDING rows of the partitions, fairly: the webhooks waiting longest first, each at
   * most `perWebhook` rows; a claimed row's due time moves `leaseSeconds` on. One statement.
   */
  claimDue(o: ClaimDueOptions): Promise<DueDelivery[]> {
    return this.db.query<DueDelivery>(
      `with recursive scheduled(p, w) as (
         -- Skip scan over deliveries_due_skip: each step finds the next webhook of a partition with
         -- scheduled rows, so the cost follows the number of webhooks, not of rows.
         select p, (select webhook_id from deliveries where status = 'PENDING' and next_attempt_at is not null and partition = p order by webhook_id limit 1)
         from unnest($1::int[]) as p
         union all
         select s.p, (select webhook_id from deliveries where status = 'PENDING' and next_attempt_at is not null and partition = s.p and webhook_id > s.w order by webhook_id limit 1)
         from scheduled s where s.w is not null
       ), hooks as (
         select p, webhook_id, oldest from (
           select s.p, s.w as webhook_id,
             (select min(next_attempt_at) from deliveries d where d.status = 'PENDING' and d.next_attempt_at is not null and d.partition = s.p and d.webhook_id = s.w) as oldest
           from scheduled s where s.w is not null and not (s.w = any($4::uuid[]))
         ) per_webhook
         where oldest <= now() order by oldest limit $2
       ), due as (
         select x.event_id, x.webhook_id from hooks h
         cross join lateral (
           select event_id, webhook_id from deliveries d
           where d.partition = h.p and d.webhook_id = h.webhook_id and d.status = 'PENDING' and d.next_attempt_at <= now()
           order by d.next_attempt_at limit $5
           for update skip locked
         ) x
         order by h.oldest
         limit $2
       )
       update deliveries d set next_attempt_at = now() + make_interval(secs => $3), updated_at = now()
       from due, events e
       where d.event_id = due.event_id and d.webhook_id = due.webhook_id and e.id = d.event_id
       returning d.event_id, d.webhook_id, d.account_id, d.partition, d.attempts, d.first_attempt_at, e.type, e.created_at, e.is_test, now() as claimed_at`,
      [o.partitions, o.limit, o.leaseSeconds, o.skipWebhooks, o.perWebhook],
    );
  }

  /**
   * PENDING rows past their due time on the partitions: the due-time queue's backlog (rows due
   * later, retries waiting for their time and claims of rows held in a lane, are not behind).
   */
  async countOverdue(partitions: number[]): Promise<number> {
    const [row] = await this.db.query<{ n: string }>(`select count(*) as n from deliveries where status = 'PENDING' and next_attempt_at <= now() and partition = any($1::int[])`, [
      partitions,
    ]);
    return Number(row.n);
  }

  /**
   * One page, in creation order after `after`, of PENDING rows never scheduled (no due time) on the
   * partitions and older than `olderThanSeconds`.
   */
  findUnscheduled(partitions: number[], olderThanSeconds: number, limit: number, after?: DeliveryPagePosition, createdBefore?: Date): Promise<DeliveryPagePosition[]> {
    return this.db.query<DeliveryPagePosition>(
      `select created_at, event_id, webhook_id from deliveries
         where status = 'PENDING' and next_attempt_at is null and partition = any($1::int[]) and created_at < now() - make_interval(secs => $2)
           and ($4::timestamptz is null or (created_at, event_id, webhook_id) > ($4, $5::uuid, $6::uuid))
           and ($7::timestamptz is null or created_at < $7)
         order by created_at, event_id, webhook_id
         limit $3`,
      [partitions, olderThanSeconds, limit, after?.created_at ?? null, after?.event_id ?? null, after?.webhook_id ?? null, createdBefore ?? null],
    );
  }

  /**
   * Which of these deliveries still wait for their first send from a task: PENDING and never
   * scheduled. Anything else was sent, is scheduled in the due-time queue, or has no row.
   */
  async waitingForTask(keys: { event_id: string; webhook_id: string }[]): Promise<{ event_id: string; webhook_id: string }[]> {
    if (!keys.length) return [];
    return this.db.query<{ event_id: string; webhook_id: string }>(
      `select d.event_id, d.webhook_id from deliveries d
         join unnest($1::uuid[], $2::uuid[]) as v(event_id, webhook_id) on d.event_id = v.event_id and d.webhook_id = v.webhook_id
         where d.status = 'PENDING' and d.next_attempt_at is null`,
      [keys.map((k) => k.event_id), keys.map((k) => k.webhook_id)],
    );
  }

  /** Makes the rows due now, those still PENDING and unscheduled (and written before `createdBefore`); returns how many it changed. */
  async markUnscheduledDue(rows: { event_id: string; webhook_id: string }[], createdBefore?: Date): Promise<number> {
    const updated = await this.db.query(
      `update deliveries d set next_attempt_at = now(), updated_at = now()
           from unnest($1::uuid[], $2::uuid[]) as v(event_id, webhook_id)
           where d.event_id = v.event_id and d.webhook_id = v.webhook_id and d.status = 'PENDING' and d.next_attempt_at is null
             and ($3::timestamptz is null or d.created_at < $3)
           returning d.event_id`,
      [rows.map((r) => r.event_id), rows.map((r) => r.webhook_id), createdBefore ?? null],
    );
    return updated.length;
  }
}

/**
 * The `deliveries` table for the config service (test sends and redelivery), on its MikroORM
 * connection. Methods that take an `em` run in that one's transaction (`em.execute`: the connection's own `execute` would run outside it).
 */
@Injectable()
export class DeliveriesOrmRepository {
  constructor(private readonly em: EntityManager) {}

  /** Creates one PENDING delivery row. */
  async insert(d: NewDelivery, em: EntityManager = this.em): Promise<void> {
    await em.execute('insert into deliveries (event_id, webhook_id, account_id, partition) values (?, ?, ?, ?)', [d.eventId, d.webhookId, d.accountId, d.partition]);
  }

  /** The webhooks of the event's deliveries that have not succeeded. */
  async listUnsucceededWebhookIds(eventId: string, em: EntityManager = this.em): Promise<string[]> {
    const pending = await em.execute<{ webhook_id: string }[]>(`select webhook_id from deliveries where event_id = ? and status <> 'SUCCEEDED'`, [eventId]);
    return pending.map((r) => r.webhook_id);
  }

  /**
   * Makes the delivery due now, created if missing, or PENDING again with a fresh retry window. A
   * row still waiting for its first send (PENDING, never scheduled) is left as it is: its task is
   * on its way, and may be sent unchecked when it comes (or, if it was lost, the reconciler re-drives it).
   * `requeued_at` keeps the moment: an attempt that started before it, recorded after, leaves the
   * row due (see recordAttemptBatch), so a redelivery asked for mid-send is not lost.
   */
  async requeue(d: NewDelivery, em: EntityManager = this.em): Promise<void> {
    await em.execute(
      `insert into deliveries (event_id, webhook_id, account_id, partition, next_attempt_at, requeued_at) values (?, ?, ?, ?, now(), now())
           on conflict (event_id, webhook_id) do update set status = 'PENDING', next_attempt_at = now(), first_attempt_at = null, requeued_at = now(), updated_at = now()
           where not (deliveries.status = 'PENDING' and deliveries.next_attempt_at is null)`,
      [d.eventId, d.webhookId, d.accountId, d.partition],
    );
  }

  /** Makes the delivery due now (for the retry scanner). */
  async markDue(eventId: string, webhookId: string): Promise<void> {
    await this.em.getConnection().execute('update deliveries set next_attempt_at = now() where event_id = ? and webhook_id = ?', [eventId, webhookId]);
  }
}
