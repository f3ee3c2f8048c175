import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { AppConfig } from '@app/config';
import type { WebhookSnapshot } from '@app/domain';
import { InjectNats, LoopSession, openWebhooksKv, SupervisedLoop } from '@app/messaging';
import { WebhookIndex } from './webhook-index';

/**
 * Feeds the WebhookIndex from the KV bucket `webhooks` (which the config service's outbox keeps
 * equal to the webhook tables). Every run of the watch starts with the bucket's full current
 * content and then resyncs: a webhook the index holds but the bucket no longer has was deleted
 * while the watch was down, and is dropped. The watch restarts by itself whenever it ends.
 */
@Injectable()
export class WebhookIndexWatcher implements OnApplicationShutdown {
  private readonly logger = new Logger(WebhookIndexWatcher.name);
  /**
   * Longer than the default between runs: each run reads the whole bucket first (about 2.5 s of CPU
   * for 100,000 webhooks), so a watch that keeps ending would otherwise take a good part of a core.
   * The index only goes stale meanwhile; deliveries go on with it.
   */
  private readonly loop = new SupervisedLoop('webhook-index', (s) => this.watch(s), { maxBackoffMs: 15_000 });
  private runs = 0;

  constructor(
    @InjectNats() private readonly nc: NatsConnection,
    readonly index: WebhookIndex,
    private readonly config: AppConfig,
  ) {}

  /** Resolves once the index holds the bucket's current content. */
  start(): Promise<void> {
    return this.loop.start();
  }

  private async watch(session: LoopSession): Promise<void> {
    const kv = await openWebhooksKv(this.nc.jetstream(), this.config.streamReplicas);
    const seen = new Set<string>();
    let initial = true;
    const watch = await kv.watch({
      initializedFn: () => {
        initial = false;
        const dropped = this.index.retainOnly(seen);
        seen.clear(); // its keys are slices of the entries' subjects: holding them keeps every subject alive
        this.runs++;
        if (this.runs === 1) this.logger.log(`webhook index loaded: ${this.index.size} webhooks`);
        else this.logger.log(`webhook index resynced: ${this.index.size} webhooks, ${dropped} dropped`);
        session.ready();
      },
    });
    session.onStop(() => watch.stop());
    for await (const e of watch) {
      if (initial) seen.add(e.key);
      try {
        if (e.operation === 'PUT') this.index.apply({ kind: 'put', webhook: e.json<WebhookSnapshot>() });
        else this.index.apply({ kind: 'delete', id: e.key });
      } catch (err) {
        this.logger.error(`bad webhook entry ${e.key}: ${(err as Error).message}`);
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }
}
