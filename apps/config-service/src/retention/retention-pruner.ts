import type { ExpiredRowsRepository } from '@app/persistence';

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
export async function pruneExpired(rows: ExpiredRowsRepository, opts: PruneOptions): Promise<Pruned> {
  const total: Pruned = { events: 0, deliveries: 0, delivery_attempts: 0 };
  for (;;) {
    const batch = await rows.inShortTransaction(() => rows.deleteExpiredEvents(opts.before, opts.batchSize));
    total.events += batch.events;
    total.deliveries += batch.deliveries;
    // Fewer found than asked: the rest are gone or held by others (a later run takes them).
    if (batch.found < opts.batchSize || batch.events === 0 || opts.stop?.()) break;
  }
  while (!opts.stop?.()) {
    const deleted = await rows.inShortTransaction(() => rows.deleteExpiredAttempts(opts.before, opts.batchSize));
    total.delivery_attempts += deleted;
    if (deleted < opts.batchSize || opts.stop?.()) break;
  }
  return total;
}
