import { JetStreamClient, KV } from 'nats';
import { KV_WEBHOOKS } from './names';

/** The bucket the config service fills from its outbox and delivery nodes watch. */
export function openWebhooksKv(js: JetStreamClient, replicas = 1): Promise<KV> {
  return js.views.kv(KV_WEBHOOKS, { history: 1, replicas });
}
