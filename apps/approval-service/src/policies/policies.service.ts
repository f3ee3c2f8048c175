import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { WebhookApprovalPolicy } from '@app/approvals-contract';
import type { Principal } from '@app/domain';
import { RequestStore } from '../requests/request-store';
import { PolicyStore } from './policy-store';

export interface PolicyView {
  enabled: boolean;
  required_approvals: number;
  /** The pending request that would change this policy, if any. */
  pending_approval_id: string | null;
}

/** GET and PUT of the webhook policy; a change to a policy that is on needs approval itself. */
@Injectable()
export class PoliciesService {
  constructor(
    private readonly em: EntityManager,
    private readonly policies: PolicyStore,
    private readonly requests: RequestStore,
  ) {}

  async get(principal: Principal): Promise<PolicyView> {
    const em = this.em.fork();
    const policy = await this.policies.read(em, principal.accountId);
    const pending = await this.requests.pendingPolicyRequest(em, principal.accountId);
    return view(policy, pending?.id ?? null);
  }

  /** Applies the policy now (when approvals are off or nothing changes) or opens a request for it. */
  async put(principal: Principal, input: { enabled: boolean; required_approvals?: number }): Promise<PolicyView> {
    return this.em.fork().transactional(async (em) => {
      await this.policies.lockAccount(em, principal.accountId);
      const current = await this.policies.read(em, principal.accountId);
      await this.requests.assertNoPendingPolicyRequest(em, principal.accountId);
      const desired: WebhookApprovalPolicy = { enabled: input.enabled, requiredApprovals: input.required_approvals ?? current.requiredApprovals };
      if (!current.enabled || samePolicy(current, desired)) {
        await this.policies.write(em, principal.accountId, desired, principal.user);
        return view(desired, null);
      }
      const request = await this.requests.open(em, {
        accountId: principal.accountId,
        action: 'POLICY_UPDATE',
        webhookId: null,
        changes: { enabled: desired.enabled, required_approvals: desired.requiredApprovals },
        requestedBy: principal.user,
        requiredApprovals: current.requiredApprovals,
      });
      return view(current, request.id);
    });
  }
}

function samePolicy(a: WebhookApprovalPolicy, b: WebhookApprovalPolicy): boolean {
  return a.enabled === b.enabled && a.requiredApprovals === b.requiredApprovals;
}

function view(policy: WebhookApprovalPolicy, pendingId: string | null): PolicyView {
  return { enabled: policy.enabled, required_approvals: policy.requiredApprovals, pending_approval_id: pendingId };
}
