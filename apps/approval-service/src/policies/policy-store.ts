import { Injectable } from '@nestjs/common';
import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { DEFAULT_APPROVAL_POLICY, WebhookApprovalPolicy } from '@app/approvals-contract';
import { NotFound } from '@app/domain';
import { Account, ApprovalPolicy } from '@app/persistence';

/**
 * Reads and writes an account's webhook policy. Writers hold the account row lock, the same lock the
 * config service holds while it consults the policy, so a webhook change sees either the old policy
 * or the new one, never a policy that changed under it.
 */
@Injectable()
export class PolicyStore {
  async lockAccount(em: EntityManager, accountId: string): Promise<void> {
    const account = await em.findOne(Account, { id: accountId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!account) throw new NotFound('The account');
  }

  async read(em: EntityManager, accountId: string): Promise<WebhookApprovalPolicy> {
    const row = await em.findOne(ApprovalPolicy, { accountId });
    return row ? { enabled: row.enabled, requiredApprovals: row.requiredApprovals } : { ...DEFAULT_APPROVAL_POLICY };
  }

  /** Call with the account locked. */
  async write(em: EntityManager, accountId: string, policy: WebhookApprovalPolicy, user: string): Promise<void> {
    await em.upsert(ApprovalPolicy, { accountId, ...policy, updatedBy: user, updatedAt: new Date() });
  }
}
