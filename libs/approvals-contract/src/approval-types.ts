/**
 * Approval requests as both services understand them. A request either changes one webhook
 * (decided by the approval service, applied by the config service) or the account's policy
 * (decided and applied by the approval service alone).
 */
export const WEBHOOK_APPROVAL_ACTIONS = ['CREATE', 'UPDATE', 'DELETE'] as const;
export const APPROVAL_ACTIONS = [...WEBHOOK_APPROVAL_ACTIONS, 'POLICY_UPDATE'] as const;
export type WebhookApprovalAction = (typeof WEBHOOK_APPROVAL_ACTIONS)[number];
export type ApprovalAction = (typeof APPROVAL_ACTIONS)[number];

export const APPROVAL_STATUSES = ['PENDING', 'APPROVED', 'REJECTED', 'CANCELLED'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];
export type ApprovalOutcome = Exclude<ApprovalStatus, 'PENDING'>;

/** Who took part in a request: approvals count towards the policy, reject and cancel end it. */
export const APPROVAL_DECISIONS = ['APPROVE', 'REJECT', 'CANCEL'] as const;
export type ApprovalDecisionKind = (typeof APPROVAL_DECISIONS)[number];

export const MIN_REQUIRED_APPROVALS = 1;
export const MAX_REQUIRED_APPROVALS = 5;

export interface WebhookApprovalPolicy {
  enabled: boolean;
  requiredApprovals: number;
}

/** An account that never set a policy applies webhook changes at once. */
export const DEFAULT_APPROVAL_POLICY: WebhookApprovalPolicy = { enabled: false, requiredApprovals: 1 };

export function isWebhookAction(action: ApprovalAction): action is WebhookApprovalAction {
  return (WEBHOOK_APPROVAL_ACTIONS as readonly string[]).includes(action);
}
