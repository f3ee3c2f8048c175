import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { isWebhookAction } from '@app/approvals-contract';
import { SecretBox } from '@app/crypto';
import { ApplicationOutcome, ApprovalRequest, Webhook, WebhookApprovalApplication } from '@app/persistence';
import { OutboxRelay } from '../outbox/outbox-relay.service';
import { applyPatch } from '../webhooks/webhook-spec';
import { WebhookStore } from '../webhooks/webhook-store';
import { ApplyAttempt, finalFailure } from './decision-failure';
import { openProposal } from './proposal';

/** What became of one decision message. */
export type ApplyResult = ApplicationOutcome | 'ALREADY_DONE' | 'UNKNOWN_REQUEST';

/**
 * Acts on a decided approval request exactly once: the webhook change and the request's
 * application record commit together, under the account lock, so a redelivered decision finds the
 * record and changes nothing. The request is read from the database (the source of truth), never
 * taken from the message.
 *
 * Approved: the change is applied under the same rules as a direct change; if it now breaks one
 * (e.g. the new name was taken meanwhile) the webhook shows ERROR with the reason and nothing else
 * changes. Rejected or cancelled: a pending create disappears (its slot is free again), a pending
 * update or delete leaves the webhook as it was.
 *
 * Any other failure (the proposal cannot be opened after a SECRETS_KEY change, a database constraint)
 * is thrown so the decision is retried, until the last attempt: then the webhook shows ERROR with
 * the reason too, so a change that can never apply does not stay pending forever. An unreachable
 * database or NATS is never final.
 */
@Injectable()
export class DecisionApplier {
  constructor(
    private readonly em: EntityManager,
    private readonly store: WebhookStore,
    private readonly box: SecretBox,
    private readonly relay: OutboxRelay,
  ) {}

  async apply(requestId: string, attempt: ApplyAttempt = { attempt: 1, last: false }): Promise<ApplyResult> {
    let result: ApplyResult;
    try {
      result = await this.em.fork().transactional((em) => this.inTransaction(em, requestId, (webhook, request) => this.act(em, webhook, request)));
    } catch (err) {
      const reason = finalFailure(err, attempt);
      if (!reason) throw err;
      result = await this.em.fork().transactional((em) =>
        this.inTransaction(em, requestId, async (webhook) => {
          await this.store.setStatus(em, webhook, 'ERROR', { errorDetail: reason, pendingApprovalId: null });
          return { outcome: 'FAILED', detail: reason };
        }),
      );
    }
    this.relay.kick();
    return result;
  }

  private async inTransaction(
    em: EntityManager,
    requestId: string,
    step: (webhook: Webhook, request: ApprovalRequest) => Promise<{ outcome: ApplicationOutcome; detail?: string }>,
  ): Promise<ApplyResult> {
    const request = await em.findOne(ApprovalRequest, { id: requestId });
    if (!request || request.status === 'PENDING' || !isWebhookAction(request.action) || !request.webhookId) return 'UNKNOWN_REQUEST';
    await this.store.lockAccount(em, request.accountId);
    if (await em.findOne(WebhookApprovalApplication, { requestId })) return 'ALREADY_DONE';
    const webhook = await em.findOne(Webhook, { id: request.webhookId, accountId: request.accountId, deletedAt: null });
    // Only the request the webhook is waiting for may change it.
    const { outcome, detail } =
      webhook && webhook.pendingApprovalId === request.id ? await step(webhook, request) : { outcome: 'IGNORED' as const, detail: 'the webhook no longer awaits this request' };
    em.persist(
      em.create(WebhookApprovalApplication, {
        requestId,
        accountId: request.accountId,
        webhookId: request.webhookId,
        outcome,
        detail: detail ?? null,
      } as WebhookApprovalApplication),
    );
    await em.flush();
    return outcome;
  }

  private async act(em: EntityManager, webhook: Webhook, request: ApprovalRequest): Promise<{ outcome: ApplicationOutcome }> {
    const proposal = openProposal(this.box, request.id, request.proposalEnc);
    if (request.status === 'APPROVED') {
      if (request.action === 'CREATE') await this.store.setStatus(em, webhook, 'ACTIVE', { pendingApprovalId: null, errorDetail: null });
      else if (request.action === 'UPDATE') await this.store.replace(em, webhook, applyPatch(this.store.specOf(webhook), proposal.patch ?? {}));
      else await this.store.softDelete(em, webhook);
      return { outcome: 'APPLIED' };
    }
    if (request.action === 'CREATE') await this.store.softDelete(em, webhook);
    else await this.store.setStatus(em, webhook, proposal.restore_status, { pendingApprovalId: null });
    return { outcome: 'REVERTED' };
  }
}
