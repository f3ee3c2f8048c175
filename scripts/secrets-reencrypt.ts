import { LockMode, type MikroORM } from '@mikro-orm/postgresql';
import { SecretBox, type SecretField, SecretOpenError } from '../libs/crypto/src';
import { ApprovalRequest, OutboxEntry, Webhook } from '../libs/persistence/src';
import { toWebhookSnapshot } from '../apps/config-service/src/webhooks/webhook-view';

export interface ReencryptReport {
  /** Rows whose secrets were sealed again under the current key. */
  webhooks: number;
  proposals: number;
  /** Rows already sealed under the current key (left untouched). */
  current: number;
  /** Rows with a secret that opens under no configured key, or not in its own row: left as they are. */
  failed: string[];
}

const WEBHOOK_FIELDS: [keyof Pick<Webhook, 'signingSecretEnc' | 'apiKeyEnc' | 'oauthClientSecretEnc'>, SecretField][] = [
  ['signingSecretEnc', 'signing_secret'],
  ['apiKeyEnc', 'api_key'],
  ['oauthClientSecretEnc', 'oauth_client_secret'],
];

/**
 * Seals every stored secret (webhooks, deleted ones too, and approval proposals) again under the
 * current SECRETS_KEY, in batches of `batch` rows, each batch one short transaction holding only
 * its rows. Idempotent: rows already under the current key are skipped, so it can be run again
 * after an interruption. A changed live webhook gets a new version and an outbox entry, so delivery
 * nodes receive the new ciphertexts through the KV bucket.
 */
export async function reencryptSecrets(orm: MikroORM, box: SecretBox, batch = 100): Promise<ReencryptReport> {
  const report: ReencryptReport = { webhooks: 0, proposals: 0, current: 0, failed: [] };
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await orm.em.fork().transactional(async (em) => {
      const page = await em.find(Webhook, { id: { $gt: after } }, { orderBy: { id: 'asc' }, limit: batch, lockMode: LockMode.PESSIMISTIC_WRITE });
      for (const w of page) {
        try {
          const next = Object.fromEntries(WEBHOOK_FIELDS.map(([col, field]) => [col, w[col] === null ? null : box.reseal(w[col], { owner: w.id, field })]));
          if (WEBHOOK_FIELDS.every(([col]) => next[col] === w[col])) {
            report.current++;
            continue;
          }
          em.assign(w, { ...next, version: Number(w.version) + 1 });
          if (!w.deletedAt) em.persist(em.create(OutboxEntry, { webhookId: w.id, op: 'PUT', payload: toWebhookSnapshot(w) } as OutboxEntry));
          report.webhooks++;
        } catch (err) {
          if (!(err instanceof SecretOpenError)) throw err;
          report.failed.push(`webhook ${w.id}: ${err.message}`);
        }
      }
      return page;
    });
    if (!rows.length) break;
    after = rows[rows.length - 1].id;
  }
  after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await orm.em.fork().transactional(async (em) => {
      const page = await em.find(
        ApprovalRequest,
        { id: { $gt: after }, proposalEnc: { $ne: null } },
        { orderBy: { id: 'asc' }, limit: batch, lockMode: LockMode.PESSIMISTIC_WRITE },
      );
      for (const r of page) {
        try {
          const next = box.reseal(r.proposalEnc!, { owner: r.id, field: 'proposal' });
          if (next === r.proposalEnc) {
            report.current++;
            continue;
          }
          r.proposalEnc = next;
          report.proposals++;
        } catch (err) {
          if (!(err instanceof SecretOpenError)) throw err;
          report.failed.push(`approval request ${r.id}: ${err.message}`);
        }
      }
      return page;
    });
    if (!rows.length) break;
    after = rows[rows.length - 1].id;
  }
  return report;
}
