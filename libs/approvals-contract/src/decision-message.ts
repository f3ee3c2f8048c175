import { isUuid } from '@app/domain';
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
    isUuid(m.request_id) &&
    isUuid(m.account_id) &&
    isUuid(m.webhook_id) &&
    (WEBHOOK_APPROVAL_ACTIONS as readonly unknown[]).includes(m.action) &&
    (m.status as string) !== 'PENDING' &&
    (APPROVAL_STATUSES as readonly unknown[]).includes(m.status);
  return ok ? (m as ApprovalDecidedMessage) : undefined;
}
