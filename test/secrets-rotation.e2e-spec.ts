import { INestApplication } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { createConfigServiceApp } from '../apps/config-service/src/main';
import { createDeliveryNodeApp } from '../apps/delivery-node/src/main';
import { keyId, SecretBox } from '@app/crypto';
import { KV_WEBHOOKS, publishEvent } from '@app/messaging';
import { ApiClient, eventually, listen, testEvent, waitForWebhooksInKv } from '@app/testing';
import { useHarness } from './support/harness';

jest.setTimeout(240_000);

const OLD = Buffer.alloc(32, 11).toString('base64');
const NEW = Buffer.alloc(32, 12).toString('base64');
const ADMIN = join(process.cwd(), 'dist', 'scripts', 'admin.js');

/**
 * Key rotation end to end: secrets sealed under the old key still deliver once the new key is
 * current, `npm run admin -- secrets:reencrypt` moves every one of them (webhooks and a pending
 * proposal) to the new key, after which the old key can go; a secret pasted into another webhook's
 * row does not open there.
 */
describe('secrets key rotation', () => {
  const h = useHarness({ env: { SECRETS_KEY: OLD, DELIVERY_PARTITIONS: '4', DELIVERY_OWNERSHIP: 'static' }, consumer: true, nats: true });
  // The config service and the delivery node are started here, since the tests restart them under other keys.
  let config: INestApplication | undefined;
  let node: INestApplication | undefined;
  let dev: ApiClient;
  let accountId: string;
  let token: string | undefined;
  const hooks: Record<'a' | 'b', { id: string; signing_secret: string }> = {} as never;

  async function startApps(env: Record<string, string | undefined>): Promise<void> {
    await node?.close();
    await config?.close();
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    config = await createConfigServiceApp();
    if (token) dev = new ApiClient(await listen(config)).as(token);
    node = await createDeliveryNodeApp();
    await node.init();
  }

  async function deliveredTo(path: string): Promise<void> {
    const id = randomUUID();
    const before = h.consumer.requests.length;
    await publishEvent(h.nc.jetstream(), testEvent(accountId, id));
    await h.consumer.waitFor((reqs) => reqs.slice(before).some((r) => r.path === path && JSON.parse(r.body).id === id), 60_000);
    const req = h.consumer.requests.slice(before).find((r) => r.path === path && JSON.parse(r.body).id === id)!;
    expect(req.headers['x-api-key']).toBe(`key${path}`);
    const hook = path === '/a' ? hooks.a : hooks.b;
    expect(() => new StandardWebhook(hook.signing_secret).verify(req.body, req.headers)).not.toThrow();
  }

  async function reencrypt(): Promise<{ webhooks: number; proposals: number; current: number; failed: string[] }> {
    const { stdout } = await promisify(execFile)(process.execPath, [ADMIN, 'secrets:reencrypt', '--batch', '1'], {
      env: { PATH: process.env.PATH, DATABASE_URL: h.platform.env.DATABASE_URL, SECRETS_KEY: NEW, SECRETS_KEY_PREVIOUS: OLD },
    });
    return JSON.parse(stdout);
  }

  beforeAll(async () => {
    h.onClose(async () => {
      await node?.close();
      await config?.close();
    });
    const acct = await h.platform.account('tenant');
    accountId = acct.accountId;
    token = await acct.token('alice', ['developer']);
    await startApps({});
    for (const name of ['a', 'b'] as const) {
      const res = await dev.post('/v2/webhooks', {
        name,
        url: `${h.consumer.url}/${name}`,
        auth_type: 'API_KEY',
        api_key: { header: 'X-Api-Key', key: `key/${name}` },
        event_types: ['identity.*'],
      });
      expect(res.status).toBe(201);
      hooks[name] = res.body;
    }
    await waitForWebhooksInKv(h.nc, [hooks.a.id, hooks.b.id]);
    await deliveredTo('/a');
    // A pending update carrying a new key: its sealed proposal is a stored secret too.
    await h.platform.sql('insert into approval_policies (account_id, enabled, required_approvals) values ($1, true, 1)', [accountId]);
    const pending = await dev.patch(`/v2/webhooks/${hooks.b.id}`, { api_key: { header: 'X-Api-Key', key: 'proposed-key-77' } });
    expect(pending.status).toBe(202);
  });

  const stored = () => h.platform.sql<{ id: string; api_key_enc: string; signing_secret_enc: string }>('select id, api_key_enc, signing_secret_enc from webhooks order by id');
  const proposals = () => h.platform.sql<{ id: string; proposal_enc: string }>('select id, proposal_enc from approval_requests where proposal_enc is not null');

  it('everything is sealed under the old key to begin with', async () => {
    for (const r of await stored()) for (const c of [r.api_key_enc, r.signing_secret_enc]) expect(c.startsWith(`v2:${keyId(Buffer.from(OLD, 'base64'))}:`)).toBe(true);
    expect((await proposals())[0].proposal_enc.startsWith(`v2:${keyId(Buffer.from(OLD, 'base64'))}:`)).toBe(true);
  });

  it('with the new key current and the old one previous, rows sealed under the old key still deliver', async () => {
    await startApps({ SECRETS_KEY: NEW, SECRETS_KEY_PREVIOUS: OLD });
    await deliveredTo('/a');
  });

  it('secrets:reencrypt moves every secret to the new key, once', async () => {
    const first = await reencrypt();
    expect(first).toEqual({ webhooks: 2, proposals: 1, current: 0, failed: [] });
    const kid = keyId(Buffer.from(NEW, 'base64'));
    for (const r of await stored()) for (const c of [r.api_key_enc, r.signing_secret_enc]) expect(c.startsWith(`v2:${kid}:`)).toBe(true);
    expect((await proposals())[0].proposal_enc.startsWith(`v2:${kid}:`)).toBe(true);
    expect(await reencrypt()).toEqual({ webhooks: 0, proposals: 0, current: 3, failed: [] });
    // The config service relays the new ciphertexts to the delivery nodes' bucket.
    const kv = await h.nc.jetstream().views.kv(KV_WEBHOOKS);
    await eventually(
      async () => {
        const e = await kv.get(hooks.a.id);
        return !!e && (JSON.parse(e.string()).signing_secret_enc as string).startsWith(`v2:${kid}:`);
      },
      { what: 'the re-sealed webhook in KV' },
    );
  });

  it('after re-encryption the old key can go: delivery and the pending approval work with the new key alone', async () => {
    await startApps({ SECRETS_KEY: NEW, SECRETS_KEY_PREVIOUS: undefined });
    await deliveredTo('/a');
    const box = new SecretBox(Buffer.from(NEW, 'base64'));
    const [proposal] = await proposals();
    expect(box.open(proposal.proposal_enc, { owner: proposal.id, field: 'proposal' })).toContain('proposed-key-77');
  });

  it("a secret pasted into another webhook's row does not open there", async () => {
    const box = new SecretBox(Buffer.from(NEW, 'base64'));
    const rows = await stored();
    const a = rows.find((r) => r.id === hooks.a.id)!;
    expect(box.open(a.api_key_enc, { owner: hooks.a.id, field: 'api_key' })).toBe('key/a');
    expect(() => box.open(a.api_key_enc, { owner: hooks.b.id, field: 'api_key' })).toThrow();
    expect(() => box.open(a.api_key_enc, { owner: hooks.a.id, field: 'signing_secret' })).toThrow();
    // Pasted for real: the API refuses to show it rather than show another webhook's key.
    await h.platform.sql('update webhooks set api_key_enc = $1 where id = $2', [a.api_key_enc, hooks.b.id]);
    const res = await dev.get(`/v2/webhooks/${hooks.b.id}`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.text).not.toContain('key/a');
  });
});
