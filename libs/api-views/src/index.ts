/**
 * The JSON the API answers with, as types only (no imports, no code): the services build these
 * and the dashboard reads them, so both compile against one definition (API.md is the contract).
 */

export type AuthType = 'API_KEY' | 'OAUTH';

/** One approval request of a webhook: who asked for what, who decided when, and what came of it. */
export interface ApprovalHistoryEntry {
  approval_id: string;
  action: string;
  changes: Record<string, unknown> | null;
  requested_by: string;
  requested_at: string;
  required_approvals: number;
  approvals: { approved_by: string; approved_at: string }[];
  status: string;
  decided_by: string | null;
  decided_at: string | null;
  /** What the config service did with the decision; null while pending or not yet applied. */
  result: string | null;
  result_detail: string | null;
  applied_at: string | null;
}

/** The webhook as the API shows it: secrets masked, the signing secret only when just created. */
export interface WebhookView {
  id: string;
  name: string;
  url: string;
  auth_type: AuthType;
  api_key: { header: string; key: string } | null;
  oauth: { client_url: string; client_id: string; client_secret: string } | null;
  event_types: string[];
  rate_limit: number;
  status: string;
  status_detail: string | null;
  signing_secret?: string;
  pending_approval_id: string | null;
  created_at: string;
  updated_at: string;
  approval_history?: ApprovalHistoryEntry[];
}

/** An approval request as the API shows it; `changes` never holds a secret in clear. */
export interface ApprovalView {
  id: string;
  action: string;
  webhook_id: string | null;
  changes: Record<string, unknown> | null;
  requested_by: string;
  required_approvals: number;
  approvals: { approved_by: string; approved_at: string }[];
  status: string;
  decided_by: string | null;
  created_at: string;
  decided_at: string | null;
}

/** One delivery attempt as the attempt log (GET /v2/webhooks/{id}/deliveries) shows it. */
export interface AttemptView {
  id: string;
  event_id: string;
  event_type: string;
  is_test: boolean;
  attempt: number;
  success: boolean;
  status_code: number | null;
  error: string | null;
  latency_ms: number;
  response_body_excerpt: string | null;
  delivery_status: string;
  created_at: string;
}

/** An event as the events API shows it, with how many of its webhooks have not had it yet. */
export interface EventView {
  id: string;
  type: string;
  object_type: string;
  object: unknown;
  created_at: string;
  is_test: boolean;
  undelivered_webhooks: number;
}
