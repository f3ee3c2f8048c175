import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { JetStreamClient } from 'nats';
import { Client } from 'pg';
import { generateSigningSecret, SecretBox } from '../../libs/crypto/src';
import type { WebhookSnapshot } from '../../libs/domain/src';
import { openWebhooksKv } from '../../libs/messaging/src';
import { createAccount } from '../../libs/persistence/src';
import { TEST_SECRETS_KEY } from '../../libs/testing/src';

/**
 * Fills the `webhooks` KV bucket with `total` valid snapshots, written directly (not through the
 * config service). `lanes` of them (rate_limit 1, `perAccount` per account) also exist in the
 * database with real accounts, so events for those accounts get delivered; the rest belong to
 * accounts that publish nothing and only sit in a node's index. Returns the lane accounts.
 */
export async function fillWebhooksKv(opts: {
  js: JetStreamClient;
  orm: MikroORM;
  dbUrl: string;
  sinkUrl: string;
  total: number;
  lanes: number;
  perAccount: number;
}): Promise<{ accounts: string[] }> {
  const box = new SecretBox(Buffer.from(TEST_SECRETS_KEY, 'base64'));
  const signing = generateSigningSecret();
  const now = new Date().toISOString();
  const snapshot = (id: string, accountId: string, url: string, rate: number): WebhookSnapshot => ({
    id,
    account_id: accountId,
    url,
    auth_type: 'API_KEY',
    api_key: { header: 'X-Key', key_enc: box.seal('bench-key', { owner: id, field: 'api_key' }) },
    oauth: null,
    event_types: ['identity.*'],
    rate_limit: rate,
    status: 'ACTIVE',
    signing_secret_enc: box.seal(signing, { owner: id, field: 'signing_secret' }),
    version: 1,
    updated_at: now,
  });
  const kv = await openWebhooksKv(opts.js);
  const put = async (list: WebhookSnapshot[]) => {
    for (let i = 0; i < list.length; i += 1000) await Promise.all(list.slice(i, i + 1000).map((s) => kv.put(s.id, JSON.stringify(s))));
  };

  // The idle majority first, then the lanes, so a node that has loaded the lanes has loaded everything.
  const idle = opts.total - opts.lanes;
  for (let i = 0; i < idle; i += 10_000) {
    const batch: WebhookSnapshot[] = [];
    for (let j = i; j < Math.min(idle, i + 10_000); j++) {
      const account = j % opts.perAccount === 0 || !batch.length ? randomUUID() : batch[batch.length - 1].account_id;
      batch.push(snapshot(randomUUID(), account, `${opts.sinkUrl}/idle/${j}`, 100));
    }
    await put(batch);
  }

  const accounts: string[] = [];
  const lanes: WebhookSnapshot[] = [];
  for (let a = 0; a * opts.perAccount < opts.lanes; a++) {
    const { account_id } = await createAccount(opts.orm.em.fork(), `bench-mem-${a}`);
    accounts.push(account_id);
    for (let h = 0; h < opts.perAccount && lanes.length < opts.lanes; h++) lanes.push(snapshot(randomUUID(), account_id, `${opts.sinkUrl}/lane/${a}/${h}`, 1));
  }
  const pg = new Client({ connectionString: opts.dbUrl });
  await pg.connect();
  try {
    await pg.query(
      `insert into webhooks (id, account_id, name, url, auth_type, api_key_header, api_key_enc, event_types, rate_limit, status, signing_secret_enc, slot)
       select id, account_id, 'lane-' || slot, url, 'API_KEY', 'X-Key', key_enc, array['identity.*'], 1, 'ACTIVE', signing_enc, slot
       from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::smallint[]) as t(id, account_id, url, key_enc, signing_enc, slot)`,
      [
        lanes.map((l) => l.id),
        lanes.map((l) => l.account_id),
        lanes.map((l) => l.url),
        lanes.map((l) => l.api_key!.key_enc),
        lanes.map((l) => l.signing_secret_enc),
        lanes.map((_, i) => (i % opts.perAccount) + 1),
      ],
    );
  } finally {
    await pg.end();
  }
  await put(lanes);
  return { accounts };
}
