import { Injectable, Logger } from '@nestjs/common';
import { KickedLoop } from '@app/messaging';
import { Database } from '../database';
import { DeliveryMetrics } from '../delivery-metrics';
import { DeliveryDispatcher } from './delivery-dispatcher';
import { DeliveryItem } from './delivery-item';
import { DeliveryRecorder } from './delivery-recorder';

const SCAN_EVERY_MS = 500;
const CLAIM_BATCH = 1000;
/** Due rows claimed per webhook per scan: the longest-waiting webhooks are served first, each a share. */
const CLAIM_PER_WEBHOOK = 50;
/** A claimed row is invisible to other scans this long; a crashed node's claims expire with it. */
const CLAIM_LEASE_SECONDS = 45;
const BACKLOG_EVERY_MS = 10_000;

interface DueRow {
  event_id: string;
  webhook_id: string;
  account_id: string;
  partition: number;
  attempts: number;
  first_attempt_at: Date | null;
  type: string;
  created_at: Date;
  is_test: boolean;
}

/**
 * The slow path: deliveries waiting for a retry (or parked because their lane was full) live in
 * Postgres with a due time. The owner of each partition claims due rows and feeds them to the
 * dispatcher, fairly: a share per webhook, longest-waiting webhooks first, and none for a webhook
 * whose lane is full, so one webhook's backlog of any size never starves another's retries.
 * Survives any crash: an unfinished claim simply becomes due again.
 */
@Injectable()
export class RetryScanner {
  private readonly logger = new Logger(RetryScanner.name);
  private readonly loop = new KickedLoop(
    () => this.scan(),
    SCAN_EVERY_MS,
    (err) => this.logFailure(err),
    'retry-scanner',
  );
  private partitions: () => ReadonlySet<number> = () => new Set();
  private lastBacklogAt = 0;
  private failures = 0;

  constructor(
    private readonly db: Database,
    private readonly dispatcher: DeliveryDispatcher,
    private readonly recorder: DeliveryRecorder,
    private readonly metrics: DeliveryMetrics,
  ) {}

  start(owned: () => ReadonlySet<number>): void {
    this.partitions = owned;
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One line when scans start failing (e.g. the database is down) and one every minute after. */
  private logFailure(err: Error): void {
    if (this.failures++ % 120 === 0) this.logger.warn(`retry scan failed: ${err.message}`);
  }

  private async scan(): Promise<void> {
    const owned = [...this.partitions()];
    if (!owned.length) return;
    await this.measureBacklog(owned);
    const full = this.dispatcher.fullWebhooks();
    const rows = await this.db.query<DueRow>(
      `with recursive scheduled(p, w) as (
         -- Skip scan over deliveries_due_skip: each step finds the next webhook of a partition with
         -- scheduled rows, so the cost follows the number of webhooks, not of rows.
         select p, (select webhook_id from deliveries where status = 'PENDING' and next_attempt_at is not null and partition = p order by webhook_id limit 1)
         from unnest($1::int[]) as p
         union all
         select s.p, (select webhook_id from deliveries where status = 'PENDING' and next_attempt_at is not null and partition = s.p and webhook_id > s.w order by webhook_id limit 1)
         from scheduled s where s.w is not null
       ), hooks as (
         select webhook_id, oldest from (
           select s.w as webhook_id,
             (select min(next_attempt_at) from deliveries d where d.status = 'PENDING' and d.next_attempt_at is not null and d.partition = s.p and d.webhook_id = s.w) as oldest
           from scheduled s where s.w is not null and not (s.w = any($4::uuid[]))
         ) per_webhook
         where oldest <= now() order by oldest limit $2
       ), due as (
         select x.event_id, x.webhook_id from hooks h
         cross join lateral (
           select event_id, webhook_id from deliveries d
           where d.webhook_id = h.webhook_id and d.status = 'PENDING' and d.next_attempt_at <= now()
           order by d.next_attempt_at limit $5
           for update skip locked
         ) x
         order by h.oldest
         limit $2
       )
       update deliveries d set next_attempt_at = now() + make_interval(secs => $3), updated_at = now()
       from due, events e
       where d.event_id = due.event_id and d.webhook_id = due.webhook_id and e.id = d.event_id
       returning d.event_id, d.webhook_id, d.account_id, d.partition, d.attempts, d.first_attempt_at, e.type, e.created_at, e.is_test`,
      [owned, CLAIM_BATCH, CLAIM_LEASE_SECONDS, full, CLAIM_PER_WEBHOOK],
    );
    this.failures = 0;
    const ownedNow = this.partitions();
    for (const row of rows) {
      const item: DeliveryItem = {
        task: { event_id: row.event_id, webhook_id: row.webhook_id, account_id: row.account_id, type: row.type, time: row.created_at.toISOString(), is_test: row.is_test },
        partition: row.partition,
        attemptsBefore: row.attempts,
        firstAttemptAt: row.first_attempt_at?.getTime(),
        settle: () => undefined,
        release: (delayMs = 0) => void this.recorder.state(item, 'PENDING', new Date(Date.now() + delayMs)),
      };
      if (!ownedNow.has(row.partition)) {
        item.release();
        continue;
      }
      this.metrics.retriesClaimed.inc();
      this.dispatcher.admit(item);
    }
  }

  private async measureBacklog(owned: number[]): Promise<void> {
    if (Date.now() - this.lastBacklogAt < BACKLOG_EVERY_MS) return;
    this.lastBacklogAt = Date.now();
    const [row] = await this.db.query<{ n: string }>(
      `select count(*) as n from deliveries where status = 'PENDING' and next_attempt_at is not null and partition = any($1::int[])`,
      [owned],
    );
    this.metrics.dueBacklog.set(Number(row.n));
  }
}
