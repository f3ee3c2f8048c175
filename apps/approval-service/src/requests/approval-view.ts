import type { ApprovalView } from '@app/api-views';
import type { ApprovalDecision, ApprovalRequest } from '@app/persistence';

export type { ApprovalView };

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
