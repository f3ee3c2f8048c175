import type { NatsConnection } from 'nats';
import { KV_WEBHOOKS } from '@app/messaging';
import { eventually } from './http-client';

/** Waits until the outbox relay has put these webhooks into the KV bucket delivery nodes watch. */
export async function waitForWebhooksInKv(nc: NatsConnection, ids: string[]): Promise<void> {
  const kv = await nc.jetstream().views.kv(KV_WEBHOOKS);
  await eventually(async () => (await Promise.all(ids.map((id) => kv.get(id)))).every((e) => e?.operation === 'PUT'), { what: `webhooks ${ids.join(', ')} in KV` });
}
