import { LockMode, type MikroORM } from '@mikro-orm/postgresql';
import { SecretBox, SecretOpenError } from '../libs/crypto/src';
import { ApprovalRequest, Webhook } from '../libs/persistence/src';
import { WebhookStore } from '../apps/config-service/src/webhooks/webhook-store';

export interface ReencryptReport {
  /** Rows whose secrets were sealed again under the current key. */
  webhooks: number;
  proposals: number;
  /** Rows already sealed under the current key (left untouched). */
  current: number;
  /** Rows with a secret that opens under no configured key, or not in its own row: left as they are. */
  failed: string[];
}

/**
 * Seals every stored secret (webhooks, deleted ones too, and approval proposals) again under the
 * current SECRETS_KEY, in batches of `batch` rows, each batch one short transaction holding only
 * its rows. Idempotent: rows already under the current key are skipped, so it can be run again
 * after an interruption. Webhooks are changed by the config service's WebhookStore (a new version
 * and, for a live one, an outbox entry, so delivery nodes receive the new ciphertexts through the
 * KV bucket).
 */
export async function reencryptSecrets(orm: MikroORM, box: SecretBox, batch = 100): Promise<ReencryptReport> {
  const report: ReencryptReport = { webhooks: 0, proposals: 0, current: 0, failed: [] };
  const store = new WebhookStore(box);
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await orm.em.fork().transactional(async (em) => {
      const page = await em.find(Webhook, { id: { $gt: after } }, { orderBy: { id: 'asc' }, limit: batch, lockMode: LockMode.PESSIMISTIC_WRITE });
      for (const w of page) {
        try {
          if (store.reseal(em, w)) report.webhooks++;
          else report.current++;
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
