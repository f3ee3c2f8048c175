import { Injectable } from '@nestjs/common';
import { EntityManager, LockMode, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { SecretBox, type SecretField, generateSigningSecret } from '@app/crypto';
import { Conflict, MAX_WEBHOOKS_PER_ACCOUNT, NotFound, WebhookStatus } from '@app/domain';
import { Account, OutboxEntry, Webhook } from '@app/persistence';
import { toWebhookSnapshot } from './webhook-view';
import type { WebhookSpec } from './webhook-spec';

/** The sealed columns of a webhook and the field each is sealed as (to the webhook's id). */
const SEALED_COLUMNS: ReadonlyArray<[keyof Pick<Webhook, 'signingSecretEnc' | 'apiKeyEnc' | 'oauthClientSecretEnc'>, SecretField]> = [
  ['signingSecretEnc', 'signing_secret'],
  ['apiKeyEnc', 'api_key'],
  ['oauthClientSecretEnc', 'oauth_client_secret'],
];

/**
 * Applies webhook changes in one transaction each, with the account row locked so the 10-webhook
 * limit and name uniqueness hold under concurrency (the database's unique slot and name indexes
 * back this up), and writes the matching outbox entry in the same transaction.
 */
@Injectable()
export class WebhookStore {
  constructor(private readonly box: SecretBox) {}

  /** A pending create passes the id of its approval request; the new webhook holds a slot and its name meanwhile. */
  async insert(
    em: EntityManager,
    accountId: string,
    spec: WebhookSpec,
    status: WebhookStatus,
    pendingApprovalId: string | null = null,
  ): Promise<{ webhook: Webhook; signingSecret: string }> {
    await this.lockAccount(em, accountId);
    const live = await em.find(Webhook, { accountId, deletedAt: null }, { fields: ['slot', 'name'] });
    if (live.length >= MAX_WEBHOOKS_PER_ACCOUNT) {
      throw new Conflict('webhook-limit-reached', `An account can have at most ${MAX_WEBHOOKS_PER_ACCOUNT} webhooks; delete one first.`, {
        limit: MAX_WEBHOOKS_PER_ACCOUNT,
      });
    }
    this.assertNameFree(live, spec.name);
    const used = new Set(live.map((w) => w.slot));
    const slot = Array.from({ length: MAX_WEBHOOKS_PER_ACCOUNT }, (_, i) => i + 1).find((s) => !used.has(s))!;
    const signingSecret = generateSigningSecret();
    // The id is chosen here because every secret is sealed to it.
    const id = randomUUID();
    const webhook = em.create(Webhook, {
      id,
      accountId,
      status,
      pendingApprovalId,
      slot,
      signingSecretEnc: this.box.seal(signingSecret, { owner: id, field: 'signing_secret' }),
      ...this.columns(spec, id),
    } as Webhook);
    await this.flush(em, webhook);
    return { webhook, signingSecret };
  }

  async load(em: EntityManager, accountId: string, id: string, lock = false): Promise<Webhook> {
    if (lock) await this.lockAccount(em, accountId);
    const webhook = await em.findOne(Webhook, { id, accountId, deletedAt: null });
    if (!webhook) throw new NotFound('The webhook');
    return webhook;
  }

  /** Replaces the configuration of a locked, loaded webhook; no change awaits approval afterwards. */
  async replace(em: EntityManager, webhook: Webhook, spec: WebhookSpec, status: WebhookStatus = 'ACTIVE'): Promise<Webhook> {
    await this.assertNameAvailable(em, webhook, spec.name);
    em.assign(webhook, { ...this.columns(spec, webhook.id), status, errorDetail: null, pendingApprovalId: null, version: Number(webhook.version) + 1, updatedAt: new Date() });
    await this.flush(em, webhook);
    return webhook;
  }

  /** With the account locked: refuses a name another live webhook of the account has. */
  async assertNameAvailable(em: EntityManager, webhook: Webhook, name: string): Promise<void> {
    if (name === webhook.name) return;
    const others = await em.find(Webhook, { accountId: webhook.accountId, deletedAt: null, id: { $ne: webhook.id } }, { fields: ['name'] });
    this.assertNameFree(others, name);
  }

  /**
   * Changes status fields only (pending states, errors); still a change delivery nodes see, so the
   * version moves, but `updated_at` stays the time of the last configuration change: a rejected
   * update leaves the webhook exactly as it was.
   */
  async setStatus(em: EntityManager, webhook: Webhook, status: WebhookStatus, fields: Partial<Pick<Webhook, 'pendingApprovalId' | 'errorDetail'>> = {}): Promise<Webhook> {
    em.assign(webhook, { status, ...fields, version: Number(webhook.version) + 1 });
    await this.flush(em, webhook);
    return webhook;
  }

  /** Soft delete: the row stays for delivery history, the name and slot are freed. */
  async softDelete(em: EntityManager, webhook: Webhook): Promise<void> {
    em.assign(webhook, { deletedAt: new Date(), slot: null, pendingApprovalId: null, version: Number(webhook.version) + 1, updatedAt: new Date() });
    em.persist(em.create(OutboxEntry, { webhookId: webhook.id, op: 'DELETE', payload: null } as OutboxEntry));
    await em.flush();
  }

  /**
   * Seals the webhook's secrets again under the current key (after a SECRETS_KEY rotation). A changed
   * webhook gets a new version and, unless deleted, an outbox entry, so delivery nodes receive the
   * new ciphertexts; both are written when the caller's transaction flushes, so a batch of webhooks
   * is one round of statements. False when every secret already was under the current key; throws
   * SecretOpenError for a secret no configured key opens, changing nothing.
   */
  reseal(em: EntityManager, webhook: Webhook): boolean {
    const next = Object.fromEntries(SEALED_COLUMNS.map(([col, field]) => [col, webhook[col] === null ? null : this.box.reseal(webhook[col], { owner: webhook.id, field })]));
    if (SEALED_COLUMNS.every(([col]) => next[col] === webhook[col])) return false;
    em.assign(webhook, { ...next, version: Number(webhook.version) + 1 });
    if (!webhook.deletedAt) em.persist(em.create(OutboxEntry, { webhookId: webhook.id, op: 'PUT', payload: toWebhookSnapshot(webhook) } as OutboxEntry));
    return true;
  }

  /** The columns of a spec, with its secrets sealed to the webhook. */
  columns(spec: WebhookSpec, webhookId: string): Partial<Webhook> {
    return {
      name: spec.name,
      url: spec.url,
      authType: spec.auth_type,
      apiKeyHeader: spec.api_key?.header ?? null,
      apiKeyEnc: spec.api_key ? this.box.seal(spec.api_key.key, { owner: webhookId, field: 'api_key' }) : null,
      oauthClientUrl: spec.oauth?.client_url ?? null,
      oauthClientId: spec.oauth?.client_id ?? null,
      oauthClientSecretEnc: spec.oauth ? this.box.seal(spec.oauth.client_secret, { owner: webhookId, field: 'oauth_client_secret' }) : null,
      eventTypes: spec.event_types,
      rateLimit: spec.rate_limit,
    };
  }

  /** The current configuration with secrets decrypted, as the base for a patch. */
  specOf(w: Webhook): WebhookSpec {
    return {
      name: w.name,
      url: w.url,
      auth_type: w.authType,
      api_key: w.authType === 'API_KEY' ? { header: w.apiKeyHeader!, key: this.box.open(w.apiKeyEnc!, { owner: w.id, field: 'api_key' }) } : null,
      oauth:
        w.authType === 'OAUTH'
          ? { client_url: w.oauthClientUrl!, client_id: w.oauthClientId!, client_secret: this.box.open(w.oauthClientSecretEnc!, { owner: w.id, field: 'oauth_client_secret' }) }
          : null,
      event_types: w.eventTypes,
      rate_limit: w.rateLimit,
    };
  }

  private async flush(em: EntityManager, webhook: Webhook): Promise<void> {
    em.persist(webhook);
    try {
      await em.flush();
      em.persist(em.create(OutboxEntry, { webhookId: webhook.id, op: 'PUT', payload: toWebhookSnapshot(webhook) } as OutboxEntry));
      await em.flush();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException && /webhooks_live_name/.test(err.message)) throw duplicateName(webhook.name);
      throw err;
    }
  }

  /** Every webhook change of an account runs under this lock (also taken by policy changes). */
  async lockAccount(em: EntityManager, accountId: string): Promise<void> {
    const account = await em.findOne(Account, { id: accountId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!account) throw new NotFound('The account');
  }

  private assertNameFree(live: Pick<Webhook, 'name'>[], name: string): void {
    if (live.some((w) => w.name === name)) throw duplicateName(name);
  }
}

function duplicateName(name: string): Conflict {
  return new Conflict('duplicate-name', `A webhook named "${name}" already exists in this account.`, { field: 'name' });
}
