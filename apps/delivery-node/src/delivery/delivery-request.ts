import { signingKey, signWithKey } from '@app/crypto';
import type { DeliveryTask } from '@app/messaging';

export const USER_AGENT = 'webhooks-delivery/1';

/** The thin body of API.md: the consumer fetches details with GET /v2/events/{id}. */
export function thinBody(task: DeliveryTask): string {
  return JSON.stringify({ id: task.event_id, type: task.type, source: 'com.paxos', time: task.time, object: 'event', is_test: task.is_test });
}

/**
 * What every request of one webhook version shares, worked out once: the decoded signing key and
 * the fixed headers (content type, user agent, the API key header).
 */
export interface PreparedWebhook {
  version: number;
  signingKey: Buffer;
  /** Flat [name, value, ...] list; the API key header (lower-cased) last when there is one. */
  fixedHeaders: string[];
  clientSecret: string;
}

export function prepareWebhook(version: number, signingSecret: string, apiKey?: { header: string; key: string }, clientSecret = ''): PreparedWebhook {
  const fixedHeaders = ['content-type', 'application/json', 'user-agent', USER_AGENT];
  if (apiKey) fixedHeaders.push(apiKey.header.toLowerCase(), apiKey.key);
  return { version, signingKey: signingKey(signingSecret), fixedHeaders, clientSecret };
}

/** The fixed headers plus the Standard Webhooks ones for one attempt, as a flat list. */
export function signedHeaders(prepared: PreparedWebhook, task: DeliveryTask, body: string, nowMs = Date.now()): string[] {
  const ts = Math.floor(nowMs / 1000);
  const headers = prepared.fixedHeaders.slice();
  headers.push('webhook-id', task.event_id, 'webhook-timestamp', String(ts), 'webhook-signature', signWithKey(prepared.signingKey, task.event_id, ts, body));
  return headers;
}
