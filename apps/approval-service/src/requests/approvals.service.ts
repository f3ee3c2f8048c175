import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { ApprovalOutcome, ApprovalStatus } from '@app/approvals-contract';
import type { Principal } from '@app/domain';
import { decodeCursor, encodeCursor } from '@app/http-common';
import type { ApprovalDecision, ApprovalRequest } from '@app/persistence';
import { PolicyStore } from '../policies/policy-store';
import { DecisionRelay } from '../relay/decision-relay.service';
import { assertCanApprove, assertCanCancel, assertPending, completesApproval, RequestState } from './approval-rules';
import { ApprovalView, toApprovalView } from './approval-view';
import { RequestStore } from './request-store';

export interface ApprovalPage {
  approvals: ApprovalView[];
  next_page_cursor: string;
}

type Step = (em: EntityManager, request: ApprovalRequest, state: RequestState) => Promise<void>;

/**
 * Reading and deciding approval requests. Every decision runs with the request row locked, so
 * concurrent approvals count one by one and a request is concluded exactly once. A concluded
 * webhook request is handed to the config service by the decision relay; a concluded policy
 * request is applied here, in the same transaction.
 */
@Injectable()
export class ApprovalsService {
  constructor(
    private readonly em: EntityManager,
    private readonly requests: RequestStore,
    private readonly policies: PolicyStore,
    private readonly relay: DecisionRelay,
  ) {}

  async list(principal: Principal, opts: { status?: ApprovalStatus; limit: number; cursor?: string }): Promise<ApprovalPage> {
    const em = this.em.fork();
    const rows = await this.requests.page(em, principal.accountId, { status: opts.status, limit: opts.limit + 1, cursor: decodeCursor(opts.cursor) });
    const page = rows.slice(0, opts.limit);
    const decisions = await this.requests.decisions(
      em,
      page.map((r) => r.id),
    );
    const last = page[page.length - 1];
    return {
      approvals: page.map((r) => toApprovalView(r, decisions)),
      next_page_cursor: rows.length > opts.limit && last ? encodeCursor({ t: last.createdAt.toISOString(), id: last.id }) : '',
    };
  }

  async get(principal: Principal, id: string): Promise<ApprovalView> {
    const em = this.em.fork();
    const request = await this.requests.find(em, principal.accountId, id);
    return toApprovalView(request, await this.requests.decisions(em, [id]));
  }

  approve(principal: Principal, id: string): Promise<ApprovalView> {
    return this.decide(principal, id, async (em, request, state) => {
      assertCanApprove(state, principal.user);
      await this.requests.record(em, request.id, principal.user, 'APPROVE');
      if (completesApproval(state)) await this.conclude(em, request, 'APPROVED', principal.user);
    });
  }

  reject(principal: Principal, id: string): Promise<ApprovalView> {
    return this.decide(principal, id, async (em, request, state) => {
      assertPending(state);
      await this.requests.record(em, request.id, principal.user, 'REJECT');
      await this.conclude(em, request, 'REJECTED', principal.user);
    });
  }

  cancel(principal: Principal, id: string): Promise<ApprovalView> {
    return this.decide(principal, id, async (em, request, state) => {
      assertCanCancel(state, principal.user);
      await this.requests.record(em, request.id, principal.user, 'CANCEL');
      await this.conclude(em, request, 'CANCELLED', principal.user);
    });
  }

  private async decide(principal: Principal, id: string, step: Step): Promise<ApprovalView> {
    const view = await this.em.fork().transactional(async (em) => {
      const request = await this.requests.lock(em, principal.accountId, id);
      await step(em, request, stateOf(request, await this.requests.decisions(em, [id])));
      await em.flush();
      return toApprovalView(request, await this.requests.decisions(em, [id]));
    });
    if (view.status !== 'PENDING') this.relay.kick();
    return view;
  }

  private async conclude(em: EntityManager, request: ApprovalRequest, status: ApprovalOutcome, user: string): Promise<void> {
    const now = new Date();
    em.assign(request, { status, decidedAt: now, decidedBy: user });
    if (request.action !== 'POLICY_UPDATE') return;
    // Nothing for the config service to apply: the policy changes here, in this transaction.
    request.notifiedAt = now;
    if (status === 'APPROVED') {
      const changes = request.changes as { enabled: boolean; required_approvals: number };
      await this.policies.lockAccount(em, request.accountId);
      await this.policies.write(em, request.accountId, { enabled: changes.enabled, requiredApprovals: changes.required_approvals }, request.requestedBy);
    }
  }
}

function stateOf(request: ApprovalRequest, decisions: readonly ApprovalDecision[]): RequestState {
  return {
    status: request.status,
    requestedBy: request.requestedBy,
    requiredApprovals: request.requiredApprovals,
    approvers: decisions.filter((d) => d.decision === 'APPROVE').map((d) => d.userName),
  };
}
