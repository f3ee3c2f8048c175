import { Injectable } from '@nestjs/common';
import { EntityManager, LockMode, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import type { ApprovalAction, ApprovalDecisionKind, ApprovalStatus } from '@app/approvals-contract';
import { Conflict, NotFound } from '@app/domain';
import { ApprovalDecision, ApprovalRequest } from '@app/persistence';
import type { Cursor } from '@app/http-common';

export interface OpenRequest {
  accountId: string;
  action: ApprovalAction;
  webhookId: string | null;
  changes: Record<string, unknown>;
  requestedBy: string;
  requiredApprovals: number;
}

/** Approval requests and their decisions in the database. */
@Injectable()
export class RequestStore {
  async open(em: EntityManager, input: OpenRequest): Promise<ApprovalRequest> {
    const request = em.create(ApprovalRequest, { ...input, status: 'PENDING' } as ApprovalRequest);
    try {
      await em.persistAndFlush(request);
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw pendingConflict();
      throw err;
    }
    return request;
  }

  /** Loads and row-locks a request of this account, so decisions on it happen one at a time. */
  async lock(em: EntityManager, accountId: string, id: string): Promise<ApprovalRequest> {
    const request = await em.findOne(ApprovalRequest, { id, accountId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!request) throw new NotFound('The approval request');
    return request;
  }

  async find(em: EntityManager, accountId: string, id: string): Promise<ApprovalRequest> {
    const request = await em.findOne(ApprovalRequest, { id, accountId });
    if (!request) throw new NotFound('The approval request');
    return request;
  }

  async page(em: EntityManager, accountId: string, opts: { status?: ApprovalStatus; limit: number; cursor?: Cursor }): Promise<ApprovalRequest[]> {
    const where: Record<string, unknown> = { accountId };
    if (opts.status) where.status = opts.status;
    if (opts.cursor) {
      const t = new Date(opts.cursor.t);
      where.$or = [{ createdAt: { $gt: t } }, { createdAt: t, id: { $gt: opts.cursor.id } }];
    }
    return em.find(ApprovalRequest, where, { orderBy: { createdAt: 'asc', id: 'asc' }, limit: opts.limit });
  }

  /** Every decision on these requests, oldest first. */
  async decisions(em: EntityManager, requestIds: string[]): Promise<ApprovalDecision[]> {
    if (!requestIds.length) return [];
    return em.find(ApprovalDecision, { requestId: { $in: requestIds } }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  async record(em: EntityManager, requestId: string, userName: string, decision: ApprovalDecisionKind): Promise<ApprovalDecision> {
    const row = em.create(ApprovalDecision, { requestId, userName, decision } as ApprovalDecision);
    try {
      await em.persistAndFlush(row);
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw new Conflict('already-approved', 'You have already approved this request.');
      throw err;
    }
    return row;
  }

  pendingPolicyRequest(em: EntityManager, accountId: string): Promise<ApprovalRequest | null> {
    return em.findOne(ApprovalRequest, { accountId, action: 'POLICY_UPDATE', status: 'PENDING' });
  }

  async assertNoPendingPolicyRequest(em: EntityManager, accountId: string): Promise<void> {
    const pending = await this.pendingPolicyRequest(em, accountId);
    if (pending) throw pendingConflict(pending.id);
  }
}

function pendingConflict(id?: string): Conflict {
  return new Conflict('approval-pending', 'A change of this policy already awaits approval; approve, reject or cancel it first.', id ? { pending_approval_id: id } : {});
}
