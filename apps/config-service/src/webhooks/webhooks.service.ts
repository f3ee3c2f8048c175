import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { SecretBox } from '@app/crypto';
import type { Principal } from '@app/domain';
import { Webhook } from '@app/persistence';
import { decodeCursor, encodeCursor } from '@app/http-common';
import { OutboxRelay } from '../outbox/outbox-relay.service';
import { WebhookStore } from './webhook-store';
import { assertPatchComplete, normaliseSpec, WebhookPatch, WebhookSpec } from './webhook-spec';
import { toWebhookView, WebhookView } from './webhook-view';

export interface WebhookPage {
  webhooks: WebhookView[];
  next_page_cursor: string;
}

/** Webhook use cases for one account; transport-free so the API and other callers share them. */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly em: EntityManager,
    private readonly store: WebhookStore,
    private readonly box: SecretBox,
    private readonly relay: OutboxRelay,
  ) {}

  async create(principal: Principal, input: Omit<WebhookSpec, 'rate_limit'> & { rate_limit?: number }): Promise<WebhookView> {
    const spec = normaliseSpec(input);
    const { webhook, signingSecret } = await this.em.fork().transactional((em) => this.store.insert(em, principal.accountId, spec, 'ACTIVE'));
    this.relay.kick();
    return toWebhookView(webhook, this.box, { signingSecret });
  }

  async get(principal: Principal, id: string): Promise<WebhookView> {
    const webhook = await this.store.load(this.em.fork(), principal.accountId, id);
    return { ...toWebhookView(webhook, this.box), approval_history: [] };
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

  async update(principal: Principal, id: string, patch: WebhookPatch): Promise<WebhookView> {
    const webhook = await this.em.fork().transactional(async (em) => {
      const current = await this.store.load(em, principal.accountId, id, true);
      const spec = this.merge(current, patch);
      return this.store.replace(em, current, spec);
    });
    this.relay.kick();
    return toWebhookView(webhook, this.box);
  }

  async remove(principal: Principal, id: string): Promise<void> {
    await this.em.fork().transactional(async (em) => {
      const current = await this.store.load(em, principal.accountId, id, true);
      await this.store.softDelete(em, current);
    });
    this.relay.kick();
  }

  /** The webhook's configuration after applying a patch, checked as a whole. */
  merge(current: Webhook, patchIn: WebhookPatch): WebhookSpec {
    const patch = Object.fromEntries(Object.entries(patchIn).filter(([, v]) => v !== undefined && v !== null)) as WebhookPatch;
    assertPatchComplete(patch, current.authType);
    const base = this.store.specOf(current);
    const authType = patch.auth_type ?? base.auth_type;
    return normaliseSpec({
      ...base,
      ...patch,
      auth_type: authType,
      api_key: authType === 'API_KEY' ? (patch.api_key ?? base.api_key) : null,
      oauth: authType === 'OAUTH' ? (patch.oauth ?? base.oauth) : null,
    });
  }
}
