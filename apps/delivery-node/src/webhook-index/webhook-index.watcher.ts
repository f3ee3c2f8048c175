import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { KvEntry, NatsConnection, QueuedIterator } from 'nats';
import { loadEnv } from '@app/config';
import type { WebhookSnapshot } from '@app/domain';
import { InjectNats, openWebhooksKv } from '@app/messaging';
import { WebhookIndex } from './webhook-index';

/** Feeds the WebhookIndex from the KV bucket `webhooks`; ready once the initial values are in. */
@Injectable()
export class WebhookIndexWatcher implements OnApplicationShutdown {
  private readonly logger = new Logger(WebhookIndexWatcher.name);
  private watch?: QueuedIterator<KvEntry>;

  constructor(
    @InjectNats() private readonly nc: NatsConnection,
    readonly index: WebhookIndex,
  ) {}

  async start(): Promise<void> {
    const kv = await openWebhooksKv(this.nc.jetstream(), loadEnv().streamReplicas);
    let resolveReady!: () => void;
    const ready = new Promise<void>((r) => (resolveReady = r));
    this.watch = await kv.watch({ initializedFn: () => resolveReady() });
    void (async () => {
      for await (const e of this.watch!) {
        try {
          if (e.operation === 'PUT') this.index.apply({ kind: 'put', webhook: e.json<WebhookSnapshot>() });
          else this.index.apply({ kind: 'delete', id: e.key });
        } catch (err) {
          this.logger.error(`bad webhook entry ${e.key}: ${(err as Error).message}`);
        }
      }
    })();
    await ready;
    this.logger.log(`webhook index loaded: ${this.index.size} webhooks`);
  }

  onApplicationShutdown(): void {
    this.watch?.stop();
  }
}
