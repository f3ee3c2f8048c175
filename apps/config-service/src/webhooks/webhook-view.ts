import { SecretBox, maskSecret } from '@app/crypto';
import type { WebhookSnapshot } from '@app/domain';
import type { Webhook } from '@app/persistence';
import type { WebhookView } from '@app/api-views';

export type { WebhookView };

export function toWebhookView(w: Webhook, box: SecretBox, extra: { signingSecret?: string } = {}): WebhookView {
  const view: WebhookView = {
    id: w.id,
    name: w.name,
    url: w.url,
    auth_type: w.authType,
    api_key: w.authType === 'API_KEY' && w.apiKeyEnc ? { header: w.apiKeyHeader!, key: maskSecret(box.open(w.apiKeyEnc, { owner: w.id, field: 'api_key' })) } : null,
    oauth:
      w.authType === 'OAUTH' && w.oauthClientSecretEnc
        ? { client_url: w.oauthClientUrl!, client_id: w.oauthClientId!, client_secret: maskSecret(box.open(w.oauthClientSecretEnc, { owner: w.id, field: 'oauth_client_secret' })) }
        : null,
    event_types: w.eventTypes,
    rate_limit: w.rateLimit,
    status: w.status,
    status_detail: w.errorDetail,
    pending_approval_id: w.pendingApprovalId,
    created_at: w.createdAt.toISOString(),
    updated_at: w.updatedAt.toISOString(),
  };
  if (extra.signingSecret) view.signing_secret = extra.signingSecret;
  return view;
}

/** What delivery nodes receive through the KV bucket: secrets stay encrypted. */
export function toWebhookSnapshot(w: Webhook): WebhookSnapshot {
  return {
    id: w.id,
    account_id: w.accountId,
    url: w.url,
    auth_type: w.authType,
    api_key: w.authType === 'API_KEY' ? { header: w.apiKeyHeader!, key_enc: w.apiKeyEnc! } : null,
    oauth: w.authType === 'OAUTH' ? { client_url: w.oauthClientUrl!, client_id: w.oauthClientId!, client_secret_enc: w.oauthClientSecretEnc! } : null,
    event_types: w.eventTypes,
    rate_limit: w.rateLimit,
    status: w.status,
    signing_secret_enc: w.signingSecretEnc,
    version: Number(w.version),
    updated_at: w.updatedAt.toISOString(),
  };
}
