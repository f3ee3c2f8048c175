import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import type { KV, NatsConnection } from 'nats';
import { InjectNats, KickedLoop, openWebhooksKv, untilDone } from '@app/messaging';
import { AppConfig } from '@app/config';
import { WebhookOutboxRepository } from '@app/persistence';

/** One relay at a time across all config-service instances, so per-key order is kept. */
const RELAY_LOCK = 727_001;
const BATCH = 200;
const POLL_MS = 1000;
/** Published entries are kept a day for inspection, then pruned (at most once a minute). */
const KEEP_PUBLISHED = '1 day';
const PRUNE_EVERY_MS = 60_000;

/**
 * Moves committed webhook changes from the outbox table into the KV bucket `webhooks`, in commit
 * order. Runs after every change (kick) and on a timer, so a NATS outage only delays it.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private kv?: KV;
  private readonly loop = new KickedLoop(
    () => this.drain(),
    POLL_MS,
    (err) => this.logger.warn(`outbox relay failed, will retry: ${err.message}`),
    'outbox-relay',
  );

  constructor(
    private readonly em: EntityManager,
    private readonly outbox: WebhookOutboxRepository,
    @InjectNats() private readonly nc: NatsConnection,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.kv = await untilDone('opening the webhooks bucket', () => openWebhooksKv(this.nc.jetstream(), this.config.streamReplicas));
    this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /** Requests a relay pass; passes never overlap. */
  kick(): void {
    this.loop.kick();
  }

  /** Relays until the outbox is empty; returns how many entries were published. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.relayBatch();
      total += n;
      if (n < BATCH) break;
    }
    if (Date.now() - this.prunedAt > PRUNE_EVERY_MS) {
      this.prunedAt = Date.now();
      await this.outbox.deletePublishedOlderThan(KEEP_PUBLISHED);
    }
    return total;
  }

  private prunedAt = 0;

  private relayBatch(): Promise<number> {
    return this.em.fork().transactional(async (em) => {
      if (!(await this.outbox.tryTakeRelayLock(RELAY_LOCK, em))) return 0;
      const rows = await this.outbox.listUnpublished(BATCH, em);
      for (const row of rows) {
        if (row.op === 'PUT') await this.kv!.put(row.webhook_id, JSON.stringify(row.payload));
        else await this.kv!.delete(row.webhook_id);
      }
      if (rows.length) {
        await this.outbox.markPublished(
          rows.map((r) => r.id),
          em,
        );
      }
      return rows.length;
    });
  }
}
