import { Injectable, Logger } from '@nestjs/common';
import { KickedLoop } from '@app/messaging';
import { DeliveriesRepository } from '@app/persistence';
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
    private readonly deliveries: DeliveriesRepository,
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
    const rows = await this.deliveries.claimDue({ partitions: owned, limit: CLAIM_BATCH, leaseSeconds: CLAIM_LEASE_SECONDS, skipWebhooks: full, perWebhook: CLAIM_PER_WEBHOOK });
    this.failures = 0;
    const ownedNow = this.partitions();
    for (const row of rows) {
      const item: DeliveryItem = {
        task: { event_id: row.event_id, webhook_id: row.webhook_id, account_id: row.account_id, type: row.type, time: row.created_at.toISOString(), is_test: row.is_test },
        partition: row.partition,
        attemptsBefore: row.attempts,
        firstAttemptAt: row.first_attempt_at?.getTime(),
        takenAt: row.claimed_at.getTime(),
        settle: () => undefined,
        release: (delayMs = 0) => void this.recorder.state(item, 'PENDING', new Date(Date.now() + delayMs)),
      };
      if (!ownedNow.has(row.partition)) {
        item.release();
        continue;
      }
      // A claim of a row still held in a lane here (a claim made at fan-out that ran out) is no retry.
      if (this.dispatcher.admit(item) !== 'duplicate') this.metrics.retriesClaimed.inc();
    }
  }

  private async measureBacklog(owned: number[]): Promise<void> {
    if (Date.now() - this.lastBacklogAt < BACKLOG_EVERY_MS) return;
    this.lastBacklogAt = Date.now();
    this.metrics.dueBacklog.set(await this.deliveries.countOverdue(owned));
  }
}
