import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import type { ApprovalHistoryEntry } from '@app/api-views';
import { ApprovalDecision, ApprovalRequest, WebhookApprovalApplication } from '@app/persistence';

export type { ApprovalHistoryEntry };

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
