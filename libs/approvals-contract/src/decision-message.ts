import { APPROVAL_STATUSES, ApprovalOutcome, WEBHOOK_APPROVAL_ACTIONS, WebhookApprovalAction } from './approval-types';

/**
 * "This webhook request is decided": a trigger only. The config service reads the request itself
 * from the database, so a duplicate or stale message can never apply anything twice or anything else.
 */
export interface ApprovalDecidedMessage {
  request_id: string;
  account_id: string;
  webhook_id: string;
  action: WebhookApprovalAction;
  status: ApprovalOutcome;
  decided_at: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeDecision(msg: ApprovalDecidedMessage): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(msg));
}

/** Parses a message body; returns undefined when it is not a decision this version understands. */
export function decodeDecision(data: Uint8Array): ApprovalDecidedMessage | undefined {
  let m: Partial<ApprovalDecidedMessage>;
  try {
    m = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
  const ok =
    typeof m === 'object' &&
    m !== null &&
    UUID.test(String(m.request_id)) &&
    UUID.test(String(m.account_id)) &&
    UUID.test(String(m.webhook_id)) &&
    (WEBHOOK_APPROVAL_ACTIONS as readonly unknown[]).includes(m.action) &&
    (m.status as string) !== 'PENDING' &&
    (APPROVAL_STATUSES as readonly unknown[]).includes(m.status);
  return ok ? (m as ApprovalDecidedMessage) : undefined;
}
