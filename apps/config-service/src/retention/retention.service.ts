import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfig } from '@app/config';
import { ExpiredRowsRepository, withSessionOptions } from '@app/persistence';
import { RetentionMetrics } from './retention-metrics';
import { pruneExpired, Pruned } from './retention-pruner';

/** Key of the session advisory lock that makes one process per cluster prune at a time. */
export const RETENTION_LOCK_KEY = 7_406_118_201;
const BATCH_SIZE = 1000;
const DAY_MS = 24 * 3600 * 1000;

/**
 * Runs the retention pruner at start-up and every RETENTION_INTERVAL_MS. It lives in the config
 * service (off the delivery path; the API that reads this data is here too) and every instance
 * schedules it, but a run holds a PostgreSQL advisory lock on its own connection, so one instance
 * prunes at a time and a crashed one releases the lock with its session. A failed run is logged and
 * tried again at the next tick; it never affects readiness.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Retention');
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopping = false;

  constructor(
    private readonly env: AppConfig,
    private readonly metrics: RetentionMetrics,
  ) {}

  /** How far back events, deliveries and attempts go. */
  get days(): number {
    return this.env.retentionDays;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), this.env.retentionIntervalMs);
    this.timer.unref();
    this.tick();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    // The run stops after its current batch; a batch stuck on an unreachable database is not waited for.
    this.stopping = true;
    await Promise.race([this.running, new Promise((r) => setTimeout(r, 2000).unref())]);
  }

  /** One run: what it removed, or 'busy' when another process holds the retention lock. */
  async runOnce(now = new Date()): Promise<Pruned | 'busy'> {
    const client = new Client({ connectionString: withSessionOptions(this.env.databaseUrl), connectionTimeoutMillis: 5000, query_timeout: 35_000 });
    client.on('error', () => undefined); // a dropped connection fails the query in progress instead
    await client.connect();
    try {
      const rows = new ExpiredRowsRepository(client);
      if (!(await rows.tryTakeSessionLock(RETENTION_LOCK_KEY))) return 'busy';
      const result = await pruneExpired(rows, { before: new Date(now.getTime() - this.days * DAY_MS), batchSize: BATCH_SIZE, stop: () => this.stopping });
      this.metrics.countPruned(result);
      return result;
    } finally {
      // Ending the session releases the advisory lock.
      await client.end().catch(() => undefined);
    }
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.runOnce()
      .then((result) => {
        if (result !== 'busy' && result.events + result.delivery_attempts > 0) {
          this.logger.log(`pruned ${result.events} events, ${result.deliveries} deliveries and ${result.delivery_attempts} attempts older than ${this.days} days`);
        }
      })
      .catch((err) => this.logger.warn(`retention run failed, trying again in ${this.env.retentionIntervalMs} ms: ${(err as Error).message}`))
      .finally(() => (this.running = undefined));
  }
}
