import { Injectable } from '@nestjs/common';
import { EntityManager, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { DEFAULT_APPROVAL_POLICY, WebhookApprovalAction, WebhookApprovalPolicy } from '@app/approvals-contract';
import { SecretBox } from '@app/crypto';
import { Conflict, Principal } from '@app/domain';
import { ApprovalPolicy, ApprovalRequest, Webhook } from '@app/persistence';
import type { WebhookPatch } from '../webhooks/webhook-spec';
import { maskedChanges, sealProposal } from './proposal';

export interface ProposedChange {
  action: WebhookApprovalAction;
  webhook: Webhook;
  /** What approvers are shown (masked here): the full spec of a create, the patch of an update. */
  shown: WebhookPatch | null;
  patch?: WebhookPatch;
}

/**
 * The config service's side of the four-eyes rule: consults the account's policy and opens the
 * approval request in the same transaction as the webhook's pending state, so a pending webhook
 * always has its request and the request keeps the policy's count of that moment. Call with the
 * account row locked (policy changes take the same lock).
 */
@Injectable()
export class ApprovalGate {
  constructor(private readonly box: SecretBox) {}

  async policy(em: EntityManager, accountId: string): Promise<WebhookApprovalPolicy> {
    const row = await em.findOne(ApprovalPolicy, { accountId });
    return row ? { enabled: row.enabled, requiredApprovals: row.requiredApprovals } : { ...DEFAULT_APPROVAL_POLICY };
  }

  /** Opens the request; returns its id (pass `id` when the webhook must carry it before it exists). */
  async open(em: EntityManager, principal: Principal, policy: WebhookApprovalPolicy, change: ProposedChange, id: string = randomUUID()): Promise<string> {
    const request = em.create(ApprovalRequest, {
      id,
      accountId: principal.accountId,
      action: change.action,
      webhookId: change.webhook.id,
      changes: change.shown ? maskedChanges(change.shown) : null,
      proposalEnc: sealProposal(this.box, id, { patch: change.patch, restore_status: change.webhook.status }),
      requestedBy: principal.user,
      requiredApprovals: policy.requiredApprovals,
      status: 'PENDING',
    } as ApprovalRequest);
    try {
      await em.persistAndFlush(request);
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw approvalPending(change.webhook.pendingApprovalId);
      throw err;
    }
    return id;
  }
}

/** A webhook has at most one pending request; any other change meanwhile is refused. */
export function assertNoPendingApproval(webhook: Webhook): void {
  if (webhook.pendingApprovalId) throw approvalPending(webhook.pendingApprovalId);
}

function approvalPending(id: string | null): Conflict {
  return new Conflict(
    'approval-pending',
    'A change of this webhook already awaits approval; it can change again once that request is approved, rejected or cancelled.',
    id ? { pending_approval_id: id } : {},
  );
}
