export const AUTH_TYPES = ['API_KEY', 'OAUTH'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

export const WEBHOOK_STATUSES = ['PENDING', 'ACTIVE', 'PENDING_UPDATE', 'PENDING_DELETION', 'ERROR'] as const;
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number];

export const MAX_WEBHOOKS_PER_ACCOUNT = 10;
export const DEFAULT_RATE_LIMIT = 10;
export const MIN_RATE_LIMIT = 1;
export const MAX_RATE_LIMIT = 100;
export const MAX_URL_LENGTH = 2048;

/**
 * Statuses whose webhooks receive deliveries: the current configuration is live. ERROR means an
 * approved change could not be applied; the configuration in force is still valid.
 */
export const DELIVERING_STATUSES: readonly WebhookStatus[] = ['ACTIVE', 'PENDING_UPDATE', 'PENDING_DELETION', 'ERROR'];

/**
 * What delivery nodes know of a webhook: the KV bucket `webhooks` holds one of these per key
 * (secrets still encrypted with the platform key).
 */
export interface WebhookSnapshot {
  id: string;
  account_id: string;
  url: string;
  auth_type: AuthType;
  api_key: { header: string; key_enc: string } | null;
  oauth: { client_url: string; client_id: string; client_secret_enc: string } | null;
  event_types: string[];
  rate_limit: number;
  status: WebhookStatus;
  signing_secret_enc: string;
  /** Increases with every committed change; lets a reader drop stale copies. */
  version: number;
  updated_at: string;
}
