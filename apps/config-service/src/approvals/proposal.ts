import type { SecretBox } from '@app/crypto';
import { maskSecret } from '@app/crypto';
import type { WebhookStatus } from '@app/domain';
import type { WebhookPatch } from '../webhooks/webhook-spec';

/**
 * What the config service needs to act on a decided request. Sealed with the SecretBox because an
 * update may carry new credentials.
 */
export interface WebhookProposal {
  /** UPDATE: the fields to change, applied on approval. */
  patch?: WebhookPatch;
  /** The webhook's status before the request, restored when an update or delete is rejected. */
  restore_status: WebhookStatus;
}

/** Sealed to its approval request: a proposal copied into another request does not open. */
export function sealProposal(box: SecretBox, requestId: string, proposal: WebhookProposal): string {
  return box.seal(JSON.stringify(proposal), { owner: requestId, field: 'proposal' });
}

export function openProposal(box: SecretBox, requestId: string, sealed: string | null): WebhookProposal {
  if (!sealed) throw new Error('the approval request carries no proposal');
  try {
    return JSON.parse(box.open(sealed, { owner: requestId, field: 'proposal' })) as WebhookProposal;
  } catch {
    // Never pass on the parser's message: it would quote the decrypted text.
    throw new Error('the sealed proposal could not be read (wrong SECRETS_KEY or damaged data)');
  }
}

/** The request's `changes` as approvers see them: credentials masked like in webhook responses. */
export function maskedChanges(change: WebhookPatch): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['name', 'url', 'auth_type', 'event_types', 'rate_limit'] as const) {
    if (change[key] !== undefined && change[key] !== null) out[key] = change[key];
  }
  if (change.api_key) out.api_key = { header: change.api_key.header, key: maskSecret(change.api_key.key) };
  if (change.oauth) out.oauth = { client_url: change.oauth.client_url, client_id: change.oauth.client_id, client_secret: maskSecret(change.oauth.client_secret) };
  return out;
}
