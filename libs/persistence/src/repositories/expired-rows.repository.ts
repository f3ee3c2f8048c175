import type { SqlClient } from './sql-database';

/** What one batch of expired events removed. */
export interface ExpiredEventBatch {
  /** Expired events found free to look at (not held by others, none of their deliveries PENDING). */
  found: number;
  events: number;
  deliveries: number;
}

/**
 * Retention's deletes from `events`, `deliveries` and `delivery_attempts`, on one session (a pg
 * client the caller connects and ends): short transactions that never wait for the delivery path.
 */
export class ExpiredRowsRepository {
  constructor(private readonly client: SqlClient) {}

  /** Takes the session advisory lock `key` if nobody holds it; ending the session releases it. */
  async tryTakeSessionLock(key: number): Promise<boolean> {
    const { rows } = await this.client.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [key]);
    return rows[0].locked;
  }

  /** Runs `work` in one transaction that gives up on a lock after 200 ms and on a statement after 30 s. */
  async inShortTransaction<T>(work: () => Promise<T>): Promise<T> {
    await this.client.query('begin');
    try {
      await this.client.query("set local lock_timeout = '200ms'");
      await this.client.query("set local statement_timeout = '30s'");
      const result = await work();
      await this.client.query('commit');
      return result;
    } catch (err) {
      await this.client.query('rollback').catch(() => undefined);
      throw err;
    }
  }

  /**
   * Deletes up to `limit` events received before `before`, each with all its deliveries, skipping
   * rows others hold. An event goes only when this transaction holds every one of its deliveries and
   * none is PENDING. Call inside `inShortTransaction`.
   */
  async deleteExpiredEvents(before: Date, limit: number): Promise<ExpiredEventBatch> {
    // Locking the event row keeps new deliveries of it out until this transaction ends (their
    // foreign key check waits on it); the batch is small, so that is milliseconds.
    const candidates = await this.client.query<{ id: string }>(
      `select e.id from events e
      where e.received_at < $1
        and not exists (select 1 from deliveries d where d.event_id = e.id and d.status = 'PENDING')
      order by e.received_at
      limit $2
      for update of e skip locked`,
      [before, limit],
    );
    const ids = candidates.rows.map((r) => r.id);
    if (!ids.length) return { found: 0, events: 0, deliveries: 0 };
    const locked = await this.client.query<{ event_id: string; status: string }>(
      'select event_id, status from deliveries where event_id = any($1::uuid[]) for update skip locked',
      [ids],
    );
    const all = await this.client.query<{ event_id: string; n: number }>('select event_id, count(*)::int as n from deliveries where event_id = any($1::uuid[]) group by event_id', [
      ids,
    ]);
    const held = new Map<string, number>();
    const live = new Set<string>();
    for (const d of locked.rows) {
      held.set(d.event_id, (held.get(d.event_id) ?? 0) + 1);
      if (d.status === 'PENDING') live.add(d.event_id);
    }
    const total = new Map(all.rows.map((r) => [r.event_id, r.n]));
    const doomed = ids.filter((id) => !live.has(id) && (held.get(id) ?? 0) === (total.get(id) ?? 0));
    if (!doomed.length) return { found: ids.length, events: 0, deliveries: 0 };
    const deliveries = await this.client.query('delete from deliveries where event_id = any($1::uuid[])', [doomed]);
    const events = await this.client.query('delete from events where id = any($1::uuid[])', [doomed]);
    return { found: ids.length, events: events.rowCount ?? 0, deliveries: deliveries.rowCount ?? 0 };
  }

  /**
   * Deletes up to `limit` attempts made before `before`, skipping those of PENDING deliveries and
   * rows others hold; returns how many. Call inside `inShortTransaction`.
   */
  async deleteExpiredAttempts(before: Date, limit: number): Promise<number> {
    const res = await this.client.query(
      `delete from delivery_attempts where id in (
       select a.id from delivery_attempts a
        where a.created_at < $1
          and not exists (select 1 from deliveries d where d.event_id = a.event_id and d.webhook_id = a.webhook_id and d.status = 'PENDING')
        order by a.created_at
        limit $2
        for update of a skip locked)`,
      [before, limit],
    );
    return res.rowCount ?? 0;
  }
}
