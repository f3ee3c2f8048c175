import type { ClientBase } from 'pg';

/** Rows removed by one run, by table. */
export interface Pruned {
  events: number;
  deliveries: number;
  delivery_attempts: number;
}

export interface PruneOptions {
  /** Rows older than this are removed. */
  before: Date;
  /** Events (with their deliveries) or attempts per transaction. */
  batchSize: number;
  /** Asked between batches; true ends the run early (shutdown). */
  stop?: () => boolean;
}

/**
 * Deletes events, deliveries and attempts older than the retention window, in short transactions
 * of at most `batchSize` rows each, deleting by primary key. It never waits for the delivery path:
 * rows another transaction holds are skipped (`SKIP LOCKED`) and picked up by a later run, and
 * `lock_timeout` ends a batch rather than let it queue behind a lock (where it would in turn make
 * the delivery path queue behind it). An event goes only with all its deliveries, and never while
 * one of them is PENDING (still to be delivered or retried); an attempt of a PENDING delivery stays.
 * Events age by `received_at` (when the platform recorded them; a publisher's `created_at` may be
 * anything), deliveries with their event, attempts by their own `created_at`.
 */
export async function pruneExpired(client: ClientBase, opts: PruneOptions): Promise<Pruned> {
  const total: Pruned = { events: 0, deliveries: 0, delivery_attempts: 0 };
  for (;;) {
    const batch = await inBatch(client, () => pruneEventBatch(client, opts));
    total.events += batch.events;
    total.deliveries += batch.deliveries;
    // Fewer found than asked: the rest are gone or held by others (a later run takes them).
    if (batch.found < opts.batchSize || batch.events === 0 || opts.stop?.()) break;
  }
  while (!opts.stop?.()) {
    const deleted = await inBatch(client, () => pruneAttemptBatch(client, opts));
    total.delivery_attempts += deleted;
    if (deleted < opts.batchSize || opts.stop?.()) break;
  }
  return total;
}

async function inBatch<T>(client: ClientBase, work: () => Promise<T>): Promise<T> {
  await client.query('begin');
  try {
    await client.query("set local lock_timeout = '200ms'");
    await client.query("set local statement_timeout = '30s'");
    const result = await work();
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}

async function pruneEventBatch(client: ClientBase, { before, batchSize }: PruneOptions): Promise<{ found: number; events: number; deliveries: number }> {
  // Locking the event row keeps new deliveries of it out until this transaction ends (their
  // foreign key check waits on it); the batch is small, so that is milliseconds.
  const candidates = await client.query<{ id: string }>(
    `select e.id from events e
      where e.received_at < $1
        and not exists (select 1 from deliveries d where d.event_id = e.id and d.status = 'PENDING')
      order by e.received_at
      limit $2
      for update of e skip locked`,
    [before, batchSize],
  );
  const ids = candidates.rows.map((r) => r.id);
  if (!ids.length) return { found: 0, events: 0, deliveries: 0 };
  const locked = await client.query<{ event_id: string; status: string }>('select event_id, status from deliveries where event_id = any($1::uuid[]) for update skip locked', [ids]);
  const all = await client.query<{ event_id: string; n: number }>('select event_id, count(*)::int as n from deliveries where event_id = any($1::uuid[]) group by event_id', [ids]);
  // An event goes only when this transaction holds every one of its deliveries and none is live.
  const held = new Map<string, number>();
  const live = new Set<string>();
  for (const d of locked.rows) {
    held.set(d.event_id, (held.get(d.event_id) ?? 0) + 1);
    if (d.status === 'PENDING') live.add(d.event_id);
  }
  const total = new Map(all.rows.map((r) => [r.event_id, r.n]));
  const doomed = ids.filter((id) => !live.has(id) && (held.get(id) ?? 0) === (total.get(id) ?? 0));
  if (!doomed.length) return { found: ids.length, events: 0, deliveries: 0 };
  const deliveries = await client.query('delete from deliveries where event_id = any($1::uuid[])', [doomed]);
  const events = await client.query('delete from events where id = any($1::uuid[])', [doomed]);
  return { found: ids.length, events: events.rowCount ?? 0, deliveries: deliveries.rowCount ?? 0 };
}

async function pruneAttemptBatch(client: ClientBase, { before, batchSize }: PruneOptions): Promise<number> {
  const res = await client.query(
    `delete from delivery_attempts where id in (
       select a.id from delivery_attempts a
        where a.created_at < $1
          and not exists (select 1 from deliveries d where d.event_id = a.event_id and d.webhook_id = a.webhook_id and d.status = 'PENDING')
        order by a.created_at
        limit $2
        for update of a skip locked)`,
    [before, batchSize],
  );
  return res.rowCount ?? 0;
}
