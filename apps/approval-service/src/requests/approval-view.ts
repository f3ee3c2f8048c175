import type { ApprovalDecision, ApprovalRequest } from '@app/persistence';

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

export function toApprovalView(r: ApprovalRequest, decisions: readonly ApprovalDecision[]): ApprovalView {
  return {
    id: r.id,
    action: r.action,
    webhook_id: r.webhookId,
    changes: r.changes,
    requested_by: r.requestedBy,
    required_approvals: r.requiredApprovals,
    approvals: decisions.filter((d) => d.requestId === r.id && d.decision === 'APPROVE').map((d) => ({ approved_by: d.userName, approved_at: d.createdAt.toISOString() })),
    status: r.status,
    decided_by: r.decidedBy,
    created_at: r.createdAt.toISOString(),
    decided_at: r.decidedAt?.toISOString() ?? null,
  };
}
