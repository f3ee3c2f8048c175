import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { ApprovalDecision, ApprovalRequest, WebhookApprovalApplication } from '@app/persistence';

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

/** Reads a webhook's approval history, oldest request first. */
@Injectable()
export class ApprovalHistory {
  async forWebhook(em: EntityManager, accountId: string, webhookId: string): Promise<ApprovalHistoryEntry[]> {
    const requests = await em.find(ApprovalRequest, { accountId, webhookId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
    if (!requests.length) return [];
    const ids = requests.map((r) => r.id);
    const decisions = await em.find(ApprovalDecision, { requestId: { $in: ids }, decision: 'APPROVE' }, { orderBy: { createdAt: 'asc', id: 'asc' } });
    const applications = await em.find(WebhookApprovalApplication, { requestId: { $in: ids } });
    return requests.map((r) => {
      const applied = applications.find((a) => a.requestId === r.id);
      return {
        approval_id: r.id,
        action: r.action,
        changes: r.changes,
        requested_by: r.requestedBy,
        requested_at: r.createdAt.toISOString(),
        required_approvals: r.requiredApprovals,
        approvals: decisions.filter((d) => d.requestId === r.id).map((d) => ({ approved_by: d.userName, approved_at: d.createdAt.toISOString() })),
        status: r.status,
        decided_by: r.decidedBy,
        decided_at: r.decidedAt?.toISOString() ?? null,
        result: applied?.outcome ?? null,
        result_detail: applied?.detail ?? null,
        applied_at: applied?.appliedAt.toISOString() ?? null,
      };
    });
  }
}
