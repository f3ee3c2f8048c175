import { connect, NatsConnection } from 'nats';
import { ApiClient, eventually, TEST_WEBHOOK_KEY, TestPlatform, testWebhook } from '@app/testing';
import { useHarness } from './support/harness';

const hook = (name: string, extra: Record<string, unknown> = {}) => testWebhook(name, { event_types: ['identity.approved', 'transfer.crypto_deposit.completed'], ...extra });

describe('webhook admin API', () => {
  const h = useHarness({ config: true });
  let platform: TestPlatform;
  let api: ApiClient;
  let dev: ApiClient;
  let accountId: string;

  beforeAll(async () => {
    ({ platform, api } = h);
    const acct = await platform.account();
    accountId = acct.accountId;
    dev = api.as(await acct.token('alice', ['developer']));
  });

  async function clearWebhooks(client: ApiClient) {
    const { body } = await client.get('/v2/webhooks');
    for (const w of body.webhooks) expect((await client.delete(`/v2/webhooks/${w.id}`)).status).toBe(204);
  }

  describe('authentication and roles', () => {
    it('401 without a token or with an unknown one, as a problem document', async () => {
      const res = await api.get('/v2/webhooks');
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body).toMatchObject({ status: 401, title: expect.any(String), type: expect.stringMatching(/unauthorized$/) });
      expect((await api.as('wht_nope').get('/v2/webhooks')).status).toBe(401);
    });

    it('403 without the developer role', async () => {
      const acct = await platform.account('roles');
      const approver = api.as(await acct.token('bob', ['approver']));
      const res = await approver.post('/v2/webhooks', hook('x'));
      expect(res.status).toBe(403);
      expect(res.body.detail).toContain('developer');
      expect((await approver.get('/v2/webhooks')).status).toBe(403);
    });
  });

  describe('create, read, update, delete', () => {
    afterEach(() => clearWebhooks(dev));

    it('creates with defaults, shows the signing secret once and masks credentials', async () => {
      const res = await dev.post('/v2/webhooks', hook('payments-prod'));
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'payments-prod',
        url: 'https://hooks.example.com/paxos',
        auth_type: 'API_KEY',
        api_key: { header: 'X-Api-Key', key: '****cdef' },
        oauth: null,
        event_types: ['identity.approved', 'transfer.crypto_deposit.completed'],
        rate_limit: 10,
        status: 'ACTIVE',
        pending_approval_id: null,
        signing_secret: expect.stringMatching(/^whsec_/),
      });
      expect(Date.parse(res.body.created_at)).not.toBeNaN();
      expect(res.text).not.toContain(TEST_WEBHOOK_KEY);

      const got = await dev.get(`/v2/webhooks/${res.body.id}`);
      expect(got.status).toBe(200);
      expect(got.body.signing_secret).toBeUndefined();
      expect(got.body.approval_history).toEqual([]);
      expect(got.text).not.toContain(TEST_WEBHOOK_KEY);
      expect(got.text).not.toContain(res.body.signing_secret);
    });

    it('creates an OAuth webhook and masks the client secret', async () => {
      const res = await dev.post('/v2/webhooks', {
        ...hook('oauth-hook'),
        auth_type: 'OAUTH',
        api_key: undefined,
        oauth: { client_url: 'https://auth.example.com/token', client_id: 'cid', client_secret: 'oauth-secret-9876' },
        rate_limit: 50,
      });
      expect(res.status).toBe(201);
      expect(res.body.oauth).toEqual({ client_url: 'https://auth.example.com/token', client_id: 'cid', client_secret: '****9876' });
      expect(res.body.api_key).toBeNull();
      expect(res.text).not.toContain('oauth-secret-9876');
    });

    it('stores secrets encrypted', async () => {
      await dev.post('/v2/webhooks', hook('enc'));
      const rows = await platform.orm.em.fork().getConnection().execute('select api_key_enc, signing_secret_enc from webhooks where name = ?', ['enc']);
      expect(rows[0].api_key_enc).not.toContain(TEST_WEBHOOK_KEY);
      expect(rows[0].signing_secret_enc).not.toMatch(/^whsec_/);
    });

    it('never shows a short secret, and counts name length in characters', async () => {
      const res = await dev.post('/v2/webhooks', hook('🚀'.repeat(60), { api_key: { header: 'X-Api-Key', key: 'abcd' } }));
      expect(res.status).toBe(201);
      expect(res.body.api_key.key).toBe('****');
      expect(res.text).not.toContain('abcd');
    });

    it('accepts group wildcards and de-duplicates event types', async () => {
      const res = await dev.post('/v2/webhooks', hook('wild', { event_types: ['identity.*', 'identity.*', 'orchestration.*'] }));
      expect(res.status).toBe(201);
      expect(res.body.event_types).toEqual(['identity.*', 'orchestration.*']);
    });

    it('patches fields, keeps secrets unless replaced, and switches auth type only with credentials', async () => {
      const { body: created } = await dev.post('/v2/webhooks', hook('to-patch'));
      const res = await dev.patch(`/v2/webhooks/${created.id}`, { name: 'patched', rate_limit: 42, event_types: ['identity.denied'] });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ name: 'patched', rate_limit: 42, event_types: ['identity.denied'], api_key: { key: '****cdef' } });
      expect(Date.parse(res.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.updated_at));

      const noCreds = await dev.patch(`/v2/webhooks/${created.id}`, { auth_type: 'OAUTH' });
      expect(noCreds.status).toBe(400);
      expect(noCreds.body.meta.errors).toEqual([expect.objectContaining({ field: 'oauth' })]);

      const switched = await dev.patch(`/v2/webhooks/${created.id}`, {
        auth_type: 'OAUTH',
        oauth: { client_url: 'https://auth.example.com/t', client_id: 'c', client_secret: 'zzzz1111' },
      });
      expect(switched.status).toBe(200);
      expect(switched.body).toMatchObject({ auth_type: 'OAUTH', api_key: null, oauth: { client_secret: '****1111' } });

      expect((await dev.patch(`/v2/webhooks/${created.id}`, {})).status).toBe(400);
      expect((await dev.patch(`/v2/webhooks/${created.id}`, { name: null })).status).toBe(400);
      expect((await dev.get(`/v2/webhooks/${created.id}`)).body.name).toBe('patched');
    });

    it('deletes, then the webhook is gone and its name is free', async () => {
      const { body } = await dev.post('/v2/webhooks', hook('short-lived'));
      expect((await dev.delete(`/v2/webhooks/${body.id}`)).status).toBe(204);
      expect((await dev.get(`/v2/webhooks/${body.id}`)).status).toBe(404);
      expect((await dev.delete(`/v2/webhooks/${body.id}`)).status).toBe(404);
      expect((await dev.post('/v2/webhooks', hook('short-lived'))).status).toBe(201);
    });

    it('pages through the list with a cursor', async () => {
      for (const n of ['p1', 'p2', 'p3', 'p4', 'p5']) expect((await dev.post('/v2/webhooks', hook(n))).status).toBe(201);
      const names: string[] = [];
      let cursor = '';
      let pages = 0;
      do {
        const res = await dev.get(`/v2/webhooks?limit=2${cursor ? `&page_cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        expect(res.body.webhooks.length).toBeLessThanOrEqual(2);
        names.push(...res.body.webhooks.map((w: { name: string }) => w.name));
        cursor = res.body.next_page_cursor;
        pages++;
      } while (cursor);
      expect(names).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
      expect(pages).toBe(3);
      expect((await dev.get('/v2/webhooks?limit=0')).status).toBe(400);
      expect((await dev.get('/v2/webhooks?limit=101')).status).toBe(400);
      expect((await dev.get('/v2/webhooks?page_cursor=garbage')).status).toBe(400);
    });
  });

  describe('limits and uniqueness', () => {
    afterEach(() => clearWebhooks(dev));

    it('refuses an 11th webhook with 409 webhook-limit-reached; a deleted one frees a slot', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await dev.post('/v2/webhooks', hook(`w${i}`));
        expect(res.status).toBe(201);
        ids.push(res.body.id);
      }
      const eleventh = await dev.post('/v2/webhooks', hook('w10'));
      expect(eleventh.status).toBe(409);
      expect(eleventh.body.type).toMatch(/\/webhook-limit-reached$/);
      expect(eleventh.headers.get('content-type')).toContain('application/problem+json');
      expect((await dev.delete(`/v2/webhooks/${ids[3]}`)).status).toBe(204);
      expect((await dev.post('/v2/webhooks', hook('w10'))).status).toBe(201);
    });

    it('refuses a duplicate name with 409 duplicate-name, on create and on rename', async () => {
      const a = await dev.post('/v2/webhooks', hook('same'));
      expect(a.status).toBe(201);
      const dup = await dev.post('/v2/webhooks', hook('same'));
      expect(dup.status).toBe(409);
      expect(dup.body.type).toMatch(/\/duplicate-name$/);
      const b = await dev.post('/v2/webhooks', hook('other'));
      const rename = await dev.patch(`/v2/webhooks/${b.body.id}`, { name: 'same' });
      expect(rename.status).toBe(409);
      expect(rename.body.type).toMatch(/\/duplicate-name$/);
    });

    it('20 concurrent creates leave exactly 10 webhooks', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => dev.post('/v2/webhooks', hook(`c${i}`))));
      const statuses = results.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 201)).toHaveLength(10);
      expect(statuses.filter((s) => s === 409)).toHaveLength(10);
      const list = await dev.get('/v2/webhooks');
      expect(list.body.webhooks.filter((w: { status: string }) => w.status === 'ACTIVE')).toHaveLength(10);
    });

    it('concurrent creates with one name leave exactly one', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, () => dev.post('/v2/webhooks', hook('racy'))));
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      expect(results.filter((r) => r.status === 409).every((r) => /duplicate-name$/.test(r.body.type))).toBe(true);
    });
  });

  describe('bad input is a 400 problem document and changes nothing', () => {
    const cases: [string, unknown, string][] = [
      ['http:// URL', hook('bad', { url: 'http://hooks.example.com' }), 'url'],
      ['URL with credentials', hook('bad', { url: 'https://u:p@hooks.example.com' }), 'url'],
      ['URL too long', hook('bad', { url: `https://h.example.com/${'a'.repeat(2048)}` }), 'url'],
      ['rate_limit 0', hook('bad', { rate_limit: 0 }), 'rate_limit'],
      ['rate_limit 101', hook('bad', { rate_limit: 101 }), 'rate_limit'],
      ['rate_limit "10"', hook('bad', { rate_limit: '10' }), 'rate_limit'],
      ['rate_limit 1.5', hook('bad', { rate_limit: 1.5 }), 'rate_limit'],
      ['API_KEY without api_key', hook('bad', { api_key: undefined }), 'api_key'],
      ['OAUTH without oauth', hook('bad', { auth_type: 'OAUTH', api_key: undefined }), 'oauth'],
      [
        'OAUTH with an http client_url',
        hook('bad', { auth_type: 'OAUTH', api_key: undefined, oauth: { client_url: 'http://a.example.com', client_id: 'a', client_secret: 'b' } }),
        'oauth.client_url',
      ],
      ['api_key without key', hook('bad', { api_key: { header: 'X-Api-Key' } }), 'api_key.key'],
      ['reserved api key header', hook('bad', { api_key: { header: 'Content-Type', key: 'k' } }), 'api_key.header'],
      ['unknown auth type', hook('bad', { auth_type: 'BASIC' }), 'auth_type'],
      ['unknown event type', hook('bad', { event_types: ['identity.exploded'] }), 'event_types'],
      ['empty event types', hook('bad', { event_types: [] }), 'event_types'],
      ['empty name', hook('', {}), 'name'],
      ['name of 101 characters', hook('n'.repeat(101)), 'name'],
      ['unknown field', hook('bad', { colour: 'red' }), 'colour'],
      ['unknown nested field', hook('bad', { api_key: { header: 'X', key: 'k', extra: 1 } }), 'api_key.extra'],
      ['a NUL character in the name', hook('a\u0000b'), 'name'],
      ['a lone surrogate in the URL', hook('bad', { url: 'https://hooks.example.com/\ud800' }), 'url'],
      ['a lone surrogate in the name', hook('a\udc00b'), 'name'],
      ['a field named like a member of every object', hook('bad', { toString: 1 }), 'toString'],
      ['a nested one', hook('bad', { api_key: { header: 'X-Api-Key', key: 'k', hasOwnProperty: 1 } }), 'api_key.hasOwnProperty'],
      [
        'a NUL character in the client id',
        hook('bad', { auth_type: 'OAUTH', api_key: undefined, oauth: { client_url: 'https://a.example.com', client_id: 'a\u0000', client_secret: 'b' } }),
        'oauth.client_id',
      ],
    ];

    it.each(cases)('%s', async (_label, body, field) => {
      const res = await dev.post('/v2/webhooks', body);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.meta.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect((await dev.get('/v2/webhooks')).body.webhooks).toHaveLength(0);
    });

    it('malformed JSON, a non-object body and an oversized body', async () => {
      for (const raw of ['{"name": ', '[1,2]', '"text"', `{"name": "${'x'.repeat(70_000)}"}`]) {
        const res = await dev.request('POST', '/v2/webhooks', undefined, { raw });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ status: 400, type: expect.any(String), detail: expect.any(String) });
      }
      expect((await dev.get('/v2/webhooks')).body.webhooks).toHaveLength(0);
    });

    it('a __proto__ field, a query parameter named like a member of every object, and unstorable text in a change', async () => {
      const raw = JSON.stringify(hook('bad')).replace(/^\{/, '{"__proto__":{"rate_limit":1},');
      const res = await dev.request('POST', '/v2/webhooks', undefined, { raw });
      expect(res.status).toBe(400);
      expect(res.body.meta.errors.map((e: { field: string }) => e.field)).toContain('__proto__');
      const query = await dev.get('/v2/webhooks?hasOwnProperty=1');
      expect(query.status).toBe(400);
      expect(query.body.meta.errors.map((e: { field: string }) => e.field)).toContain('hasOwnProperty');
      expect((await dev.get('/v2/webhooks')).body.webhooks).toHaveLength(0);

      const made = await dev.post('/v2/webhooks', hook('kept'));
      expect(made.status).toBe(201);
      for (const change of [{ name: 'x\ud800' }, { url: 'https://hooks.example.com/\udfff' }]) {
        const patched = await dev.patch(`/v2/webhooks/${made.body.id}`, change);
        expect(patched.status).toBe(400);
        expect(patched.headers.get('content-type')).toContain('application/problem+json');
      }
      expect((await dev.get(`/v2/webhooks/${made.body.id}`)).body).toMatchObject({ name: 'kept', url: made.body.url });
      expect((await dev.delete(`/v2/webhooks/${made.body.id}`)).status).toBe(204);
    });

    it('a cursor this API did not issue', async () => {
      const forged = Buffer.from(JSON.stringify({ t: '2020-01-01T00:00:00Z', id: 'not-a-uuid' })).toString('base64url');
      const res = await dev.get(`/v2/webhooks?page_cursor=${forged}`);
      expect(res.status).toBe(400);
      expect(res.body.type).toMatch(/invalid-cursor$/);
      expect(res.body.meta.errors).toEqual([{ field: 'page_cursor', message: expect.any(String) }]);
    });

    it('a malformed body without a token is a 401, not a 400', async () => {
      const res = await api.request('POST', '/v2/webhooks', undefined, { raw: '{"name": ' });
      expect(res.status).toBe(401);
    });

    it('a bad UUID in the path', async () => {
      for (const res of [await dev.get('/v2/webhooks/not-a-uuid'), await dev.patch('/v2/webhooks/123', { name: 'x' }), await dev.delete('/v2/webhooks/zzz')]) {
        expect(res.status).toBe(400);
        expect(res.body.meta.errors[0].field).toBe('id');
      }
    });
  });

  it('keeps accounts apart: another account sees 404, never the webhook', async () => {
    const { body } = await dev.post('/v2/webhooks', hook('mine'));
    const other = await platform.account('other');
    const stranger = api.as(await other.token('eve', ['developer']));
    expect((await stranger.get(`/v2/webhooks/${body.id}`)).status).toBe(404);
    expect((await stranger.patch(`/v2/webhooks/${body.id}`, { name: 'stolen' })).status).toBe(404);
    expect((await stranger.delete(`/v2/webhooks/${body.id}`)).status).toBe(404);
    expect((await stranger.get('/v2/webhooks')).body.webhooks).toEqual([]);
    expect((await dev.get(`/v2/webhooks/${body.id}`)).body.name).toBe('mine');
    await clearWebhooks(dev);
  });

  it('lists the 55 event types in three groups', async () => {
    const res = await dev.get('/v2/event-types');
    expect(res.status).toBe(200);
    expect(res.body.groups.map((g: { group: string }) => g.group)).toEqual(['Identity', 'Transfer', 'Orchestration']);
    const all = res.body.groups.flatMap((g: { event_types: unknown[] }) => g.event_types);
    expect(all).toHaveLength(55);
    expect(all).toContainEqual({ type: 'identity.approved', object_type: 'identity_summary_status_change' });
  });

  it('relays every committed change to the KV bucket `webhooks`', async () => {
    const nc: NatsConnection = await connect({ servers: platform.nats.url });
    try {
      const kv = await nc.jetstream().views.kv('webhooks');
      const created = await dev.post('/v2/webhooks', hook('relayed'));
      const id = created.body.id;
      const first = await eventually(async () => (await kv.get(id))?.json<any>(), { what: 'create in KV' });
      expect(first).toMatchObject({ id, account_id: accountId, status: 'ACTIVE', rate_limit: 10, version: 1 });
      expect(JSON.stringify(first)).not.toContain(TEST_WEBHOOK_KEY);

      await dev.patch(`/v2/webhooks/${id}`, { rate_limit: 7 });
      await eventually(async () => (await kv.get(id))?.json<any>()?.rate_limit === 7, { what: 'update in KV' });

      await dev.delete(`/v2/webhooks/${id}`);
      await eventually(
        async () => {
          const e = await kv.get(id);
          return !e || e.operation === 'DEL' || e.operation === 'PURGE';
        },
        { what: 'delete in KV' },
      );
    } finally {
      await nc.close();
    }
  });

  it('serves health, metrics and the OpenAPI document without a token', async () => {
    const health = await api.get('/health');
    expect(health.status).toBe(200);
    expect(health.body.checks).toEqual({ database: 'ok', nats: 'ok', loops: 'ok' });
    const metrics = await api.get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('process_cpu_seconds_total');
    const doc = await api.get('/docs/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v2/webhooks', '/v2/webhooks/{id}', '/v2/event-types']));
    expect(doc.body.components.schemas.CreateWebhookDto.properties.rate_limit).toMatchObject({ minimum: 1, maximum: 100 });
    expect((await api.get('/docs')).status).toBe(200);
  });
});
