import { Injectable, Logger } from '@nestjs/common';
import { KickedLoop } from '@app/messaging';
import { Database } from '../database';
import { DeliveryMetrics } from '../delivery-metrics';
import { DeliveryDispatcher } from './delivery-dispatcher';
import { DeliveryItem } from './delivery-item';
import { DeliveryRecorder } from './delivery-recorder';

const SCAN_EVERY_MS = 500;
const CLAIM_BATCH = 500;
/** A claimed row is invisible to other scans this long; a crashed node's claims expire with it. */
const CLAIM_LEASE_SECONDS = 45;

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
 * dispatcher. Survives any crash: an unfinished claim simply becomes due again.
 */
@Injectable()
export class RetryScanner {
  private readonly logger = new Logger(RetryScanner.name);
  private readonly loop = new KickedLoop(() => this.scan(), SCAN_EVERY_MS, (err) => this.logger.warn(`retry scan failed: ${err.message}`));
  private partitions: () => ReadonlySet<number> = () => new Set();

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

  private async scan(): Promise<void> {
    const owned = [...this.partitions()];
    if (!owned.length) return;
    const rows = await this.db.query<DueRow>(
      `update deliveries d set next_attempt_at = now() + make_interval(secs => $3), updated_at = now()
       from (select event_id, webhook_id from deliveries
             where status = 'PENDING' and next_attempt_at <= now() and partition = any($1::int[])
             order by next_attempt_at limit $2 for update skip locked) due, events e
       where d.event_id = due.event_id and d.webhook_id = due.webhook_id and e.id = d.event_id
       returning d.event_id, d.webhook_id, d.account_id, d.partition, d.attempts, d.first_attempt_at, e.type, e.created_at, e.is_test`,
      [owned, CLAIM_BATCH, CLAIM_LEASE_SECONDS],
    );
    const ownedNow = this.partitions();
    for (const row of rows) {
      const item: DeliveryItem = {
        task: { event_id: row.event_id, webhook_id: row.webhook_id, account_id: row.account_id, type: row.type, time: row.created_at.toISOString(), is_test: row.is_test },
        partition: row.partition,
        attemptsBefore: row.attempts,
        firstAttemptAt: row.first_attempt_at?.getTime(),
        settle: () => undefined,
        release: () => void this.recorder.state(item, 'PENDING', new Date()),
      };
      if (!ownedNow.has(row.partition)) {
        item.release();
        continue;
      }
      this.metrics.retriesClaimed.inc();
      this.dispatcher.admit(item);
    }
  }
}
