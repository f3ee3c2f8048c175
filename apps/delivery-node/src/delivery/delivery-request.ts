import { signPayload } from '@app/crypto';
import type { DeliveryTask } from '@app/messaging';

export const USER_AGENT = 'webhooks-delivery/1';

/** The thin body of API.md: the consumer fetches details with GET /v2/events/{id}. */
export function thinBody(task: DeliveryTask): string {
  return JSON.stringify({ id: task.event_id, type: task.type, source: 'com.paxos', time: task.time, object: 'event', is_test: task.is_test });
}

/** Content type, user agent and the Standard Webhooks headers for one attempt. */
export function signedHeaders(task: DeliveryTask, body: string, signingSecret: string, nowMs = Date.now()): Record<string, string> {
  const ts = Math.floor(nowMs / 1000);
  return {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'webhook-id': task.event_id,
    'webhook-timestamp': String(ts),
    'webhook-signature': signPayload(signingSecret, task.event_id, ts, body),
  };
}
