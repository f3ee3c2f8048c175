import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { SecretBox } from '@app/crypto';
import type { Principal } from '@app/domain';
import { Webhook } from '@app/persistence';
import { decodeCursor, encodeCursor } from '@app/http-common';
import { ApprovalGate, assertNoPendingApproval } from '../approvals/approval-gate';
import { ApprovalHistory } from '../approvals/approval-history';
import { OutboxRelay } from '../outbox/outbox-relay.service';
import { WebhookStore } from './webhook-store';
import { applyPatch, compactPatch, normaliseSpec, WebhookPatch, WebhookSpec } from './webhook-spec';
import { toWebhookView, WebhookView } from './webhook-view';

export interface WebhookPage {
  webhooks: WebhookView[];
  next_page_cursor: string;
}

/**
 * Webhook use cases for one account; transport-free so the API and other callers share them.
 * With the account's approval policy on, a change is checked like a direct one, then parked: the
 * webhook shows a pending status and `pending_approval_id` until the decision is applied.
 */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly em: EntityManager,
    private readonly store: WebhookStore,
    private readonly box: SecretBox,
    private readonly relay: OutboxRelay,
    private readonly gate: ApprovalGate,
    private readonly history: ApprovalHistory,
  ) {}

  /** A pending create (status PENDING) already holds a slot and its name. */
  async create(principal: Principal, input: Omit<WebhookSpec, 'rate_limit'> & { rate_limit?: number }): Promise<WebhookView> {
    const spec = normaliseSpec(input);
    const { webhook, signingSecret } = await this.em.fork().transactional(async (em) => {
      await this.store.lockAccount(em, principal.accountId);
      const policy = await this.gate.policy(em, principal.accountId);
      if (!policy.enabled) return this.store.insert(em, principal.accountId, spec, 'ACTIVE');
      const requestId = randomUUID();
      const created = await this.store.insert(em, principal.accountId, spec, 'PENDING', requestId);
      await this.gate.open(em, principal, policy, { action: 'CREATE', webhook: created.webhook, shown: spec }, requestId);
      return created;
    });
    this.relay.kick();
    return toWebhookView(webhook, this.box, { signingSecret });
  }

  async get(principal: Principal, id: string): Promise<WebhookView> {
    const em = this.em.fork();
    const webhook = await this.store.load(em, principal.accountId, id);
    return { ...toWebhookView(webhook, this.box), approval_history: await this.history.forWebhook(em, principal.accountId, id) };
  }

  async list(principal: Principal, limit: number, cursorRaw?: string): Promise<WebhookPage> {
    const cursor = decodeCursor(cursorRaw);
    const where: Record<string, unknown> = { accountId: principal.accountId, deletedAt: null };
    if (cursor) {
      const t = new Date(cursor.t);
      where.$or = [{ createdAt: { $gt: t } }, { createdAt: t, id: { $gt: cursor.id } }];
    }
    const rows = await this.em.fork().find(Webhook, where, { orderBy: { createdAt: 'asc', id: 'asc' }, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      webhooks: page.map((w) => toWebhookView(w, this.box)),
      next_page_cursor: rows.length > limit && last ? encodeCursor({ t: last.createdAt.toISOString(), id: last.id }) : '',
    };
  }

  /** Under approval the webhook keeps its configuration (and keeps delivering) until the change is approved. */
  async update(principal: Principal, id: string, patchIn: WebhookPatch): Promise<WebhookView> {
    const webhook = await this.em.fork().transactional(async (em) => {
      const current = await this.store.load(em, principal.accountId, id, true);
      assertNoPendingApproval(current);
      const patch = compactPatch(patchIn);
      const spec = this.merge(current, patch);
      const policy = await this.gate.policy(em, principal.accountId);
      if (!policy.enabled) return this.store.replace(em, current, spec);
      await this.store.assertNameAvailable(em, current, spec.name);
      const requestId = await this.gate.open(em, principal, policy, { action: 'UPDATE', webhook: current, shown: patch, patch });
      return this.store.setStatus(em, current, 'PENDING_UPDATE', { pendingApprovalId: requestId });
    });
    this.relay.kick();
    return toWebhookView(webhook, this.box);
  }

  /** Returns null when deleted now, or the webhook awaiting approval of its deletion. */
  async remove(principal: Principal, id: string): Promise<WebhookView | null> {
    const pending = await this.em.fork().transactional(async (em) => {
      const current = await this.store.load(em, principal.accountId, id, true);
      assertNoPendingApproval(current);
      const policy = await this.gate.policy(em, principal.accountId);
      if (!policy.enabled) {
        await this.store.softDelete(em, current);
        return null;
      }
      const requestId = await this.gate.open(em, principal, policy, { action: 'DELETE', webhook: current, shown: null });
      return this.store.setStatus(em, current, 'PENDING_DELETION', { pendingApprovalId: requestId });
    });
    this.relay.kick();
    return pending && toWebhookView(pending, this.box);
  }

  /** The webhook's configuration after applying a patch, checked as a whole. */
  merge(current: Webhook, patch: WebhookPatch): WebhookSpec {
    return applyPatch(this.store.specOf(current), patch);
  }
}
