import { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { NatsConnection } from 'nats';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { WebhookIndex } from '../apps/delivery-node/src/webhook-index/webhook-index';
import { partitionOf } from '@app/hashing';
import { publishEvent } from '@app/messaging';
import { ApiClient, eventually, HttpsConsumer, ReceivedRequest, testEvent, TestPlatform, waitForWebhooksInKv } from '@app/testing';
import { useHarness } from './support/harness';

jest.setTimeout(180_000);

describe('event delivery (one node)', () => {
  const handlers = new Map<string, (r: ReceivedRequest) => { status: number; body?: string; hang?: boolean; headers?: Record<string, string> }>();
  const h = useHarness({
    env: { DELIVERY_PARTITIONS: '8' },
    consumer: (r) => handlers.get(r.path.split('?')[0])?.(r) ?? { status: 200, body: 'ok' },
    config: true,
    node: true,
    nats: true,
  });
  let platform: TestPlatform;
  let node: INestApplication;
  let api: ApiClient;
  let dev: ApiClient;
  let accountId: string;
  let consumer: HttpsConsumer;
  let nc: NatsConnection;

  beforeAll(async () => {
    ({ platform, node, api, consumer, nc } = h);
    const acct = await platform.account();
    accountId = acct.accountId;
    dev = api.as(await acct.token('alice', ['developer']));
  });

  async function createHook(path: string, extra: Record<string, unknown> = {}) {
    const res = await dev.post('/v2/webhooks', {
      name: `hook${path.replace(/\//g, '-')}`,
      url: `${consumer.url}${path}`,
      auth_type: 'API_KEY',
      api_key: { header: 'X-Api-Key', key: `key-for${path.replace(/\//g, '-')}` },
      event_types: ['identity.*'],
      ...extra,
    });
    expect(res.status).toBe(201);
    // Wait until the delivery node's index has it (the outbox relays asynchronously).
    await waitForWebhooksInKv(nc, [res.body.id]);
    return res.body as { id: string; signing_secret: string };
  }

  async function publish(type = 'identity.approved', account = accountId, id = randomUUID()) {
    await publishEvent(nc.jetstream(), testEvent(account, id, type));
    return id;
  }

  const at = (path: string) => consumer.requests.filter((r) => r.path === path);

  it('delivers to an API-key webhook with the thin body, the key and a verifiable signature', async () => {
    const hook = await createHook('/api-key');
    // Let the node's index see the webhook before publishing (fan-out matches against it).
    await eventually(() => node.get(WebhookIndex).deliverable(hook.id), { what: 'the webhook in the node index' });
    const eventId = await publish();
    await consumer.waitFor(() => at('/api-key').length >= 1);
    const req = at('/api-key')[0];
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['x-api-key']).toBe('key-for-api-key');
    expect(JSON.parse(req.body)).toEqual({ id: eventId, type: 'identity.approved', source: 'com.paxos', time: expect.any(String), object: 'event', is_test: false });
    expect(req.headers['webhook-id']).toBe(eventId);
    expect(new StandardWebhook(hook.signing_secret).verify(req.body, req.headers)).toMatchObject({ id: eventId });

    const event = await eventually(
      async () => {
        const r = await dev.get(`/v2/events/${eventId}`);
        return r.status === 200 && r.body.undelivered_webhooks === 0 && r.body;
      },
      { what: 'event recorded as delivered' },
    );
    expect(event).toMatchObject({ id: eventId, type: 'identity.approved', object_type: 'identity_summary_status_change', object: { identity_id: 'i-1' }, is_test: false });
    const attempts = await eventually(
      async () => {
        const r = await dev.get(`/v2/webhooks/${hook.id}/deliveries`);
        return r.body.deliveries?.length >= 1 && r.body.deliveries;
      },
      { what: 'attempt log' },
    );
    expect(attempts[0]).toMatchObject({ event_id: eventId, success: true, status_code: 200, attempt: 1, delivery_status: 'SUCCEEDED' });
    const list = await dev.get('/v2/events?type=identity.approved');
    expect(list.body.events.map((e: { id: string }) => e.id)).toContain(eventId);
    await dev.delete(`/v2/webhooks/${hook.id}`);
  });

  it('OAuth: one token for many deliveries, both client authentications, a new token after a 401', async () => {
    let tokenNo = 0;
    const tokenRequests: ReceivedRequest[] = [];
    handlers.set('/token', (r) => {
      tokenRequests.push(r);
      tokenNo++;
      return { status: 200, body: JSON.stringify({ access_token: `tok-${tokenNo}`, token_type: 'Bearer', expires_in: 3600 }), headers: { 'content-type': 'application/json' } };
    });
    let rejectNext = false;
    handlers.set('/oauth', (r) => {
      if (rejectNext && r.headers.authorization === 'Bearer tok-1') return { status: 401 };
      return { status: 200 };
    });
    const hook = await createHook('/oauth', {
      auth_type: 'OAUTH',
      api_key: undefined,
      oauth: { client_url: `${consumer.url}/token`, client_id: 'client one', client_secret: 's3cret&x' },
      rate_limit: 50,
    });
    for (let i = 0; i < 5; i++) await publish();
    await consumer.waitFor(() => at('/oauth').length >= 5);
    expect(tokenRequests).toHaveLength(1);
    expect(at('/oauth').every((r) => r.headers.authorization === 'Bearer tok-1')).toBe(true);
    const t = tokenRequests[0];
    expect(t.method).toBe('POST');
    expect(t.headers['content-type']).toContain('application/x-www-form-urlencoded');
    const form = new URLSearchParams(t.body);
    expect(form.get('grant_type')).toBe('client_credentials');
    expect(form.get('client_id')).toBe('client one');
    expect(form.get('client_secret')).toBe('s3cret&x');
    // RFC 6749 2.3.1: each part form-urlencoded (a space becomes "+"), then Basic.
    const formEncode = (v: string) => new URLSearchParams({ v }).toString().slice(2);
    expect(t.headers.authorization).toBe(`Basic ${Buffer.from(`${formEncode('client one')}:${formEncode('s3cret&x')}`).toString('base64')}`);

    rejectNext = true;
    const eventId = await publish();
    await consumer.waitFor(() => at('/oauth').some((r) => JSON.parse(r.body).id === eventId && r.headers.authorization === 'Bearer tok-2'));
    expect(tokenRequests).toHaveLength(2);
    await eventually(async () => (await dev.get(`/v2/events/${eventId}`)).body.undelivered_webhooks === 0, { what: 'delivered after token refresh' });
    await dev.delete(`/v2/webhooks/${hook.id}`);
  });

  it('OAuth: falls back when the token endpoint refuses two client authentications, and remembers it', async () => {
    const seen: string[] = [];
    handlers.set('/strict-token', (r) => {
      const basic = !!r.headers.authorization;
      const inBody = new URLSearchParams(r.body).has('client_secret');
      seen.push(basic && inBody ? 'both' : basic ? 'basic' : 'post');
      if (basic && inBody) return { status: 400, body: JSON.stringify({ error: 'invalid_request' }), headers: { 'content-type': 'application/json' } };
      return { status: 200, body: JSON.stringify({ access_token: `strict-${seen.length}`, expires_in: 3600 }), headers: { 'content-type': 'application/json' } };
    });
    let revoked = '';
    handlers.set('/strict', (r) => (r.headers.authorization === revoked ? { status: 401 } : { status: 200 }));
    const hook = await createHook('/strict', {
      auth_type: 'OAUTH',
      api_key: undefined,
      oauth: { client_url: `${consumer.url}/strict-token`, client_id: 'strict', client_secret: 'strict-secret' },
      event_types: ['identity.disabled'],
    });
    await publish('identity.disabled');
    await consumer.waitFor(() => at('/strict').length >= 1);
    expect(at('/strict')[0].headers.authorization).toMatch(/^Bearer strict-/);
    expect(seen.slice(0, 2)).toEqual(['both', 'basic']);
    // The endpoint now refuses that token: the new token request goes straight to the method that worked.
    revoked = at('/strict')[0].headers.authorization;
    const second = await publish('identity.disabled');
    await consumer.waitFor(() => at('/strict').some((r) => JSON.parse(r.body).id === second && r.headers.authorization !== revoked));
    expect(seen).toEqual(['both', 'basic', 'basic']);
    await dev.delete(`/v2/webhooks/${hook.id}`);
  });

  it('honours Retry-After on a 429 and applies a rate change within seconds', async () => {
    let n = 0;
    handlers.set('/busy', () => (++n === 1 ? { status: 429, headers: { 'retry-after': '8' } } : { status: 200 }));
    const hook = await createHook('/busy', { event_types: ['identity.kyc_refresh.started'], rate_limit: 1 });
    await publish('identity.kyc_refresh.started');
    await consumer.waitFor(() => at('/busy').length >= 2, 60_000);
    const [first, second] = at('/busy').map((r) => r.receivedAt);
    expect(second - first).toBeGreaterThanOrEqual(7500);

    // At rate 1 ten events take about ten seconds; raised to 50 they all land within a second or two.
    expect((await dev.patch(`/v2/webhooks/${hook.id}`, { rate_limit: 50 })).status).toBe(200);
    const kv = await nc.jetstream().views.kv('webhooks');
    await eventually(async () => (await kv.get(hook.id))?.json<{ rate_limit: number }>().rate_limit === 50);
    const before = at('/busy').length;
    for (let i = 0; i < 10; i++) await publish('identity.kyc_refresh.started');
    await consumer.waitFor(() => at('/busy').length >= before + 10, 30_000);
    const burst = at('/busy')
      .slice(before)
      .map((r) => r.receivedAt);
    expect(burst[burst.length - 1] - burst[0]).toBeLessThan(5000);
    await dev.delete(`/v2/webhooks/${hook.id}`);
  });

  /** Arrivals at the consumer: the fullest one-second window, and the rate without the first and last second. */
  function windowsAt(path: string) {
    const times = at(path)
      .map((r) => r.receivedAt)
      .sort((a, b) => a - b);
    let worst = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (j < times.length && times[j] - times[i] < 1000) j++;
      worst = Math.max(worst, j - i);
    }
    const first = times[0];
    const last = times[times.length - 1];
    const steady = times.filter((t) => t >= first + 1000 && t < last - 1000).length / ((last - first - 2000) / 1000);
    return { worst, steady, times: times.map((t) => t - first) };
  }

  it('a webhook with a backlog gets its whole rate_limit, and no one-second window at the consumer gets more (5/s and 100/s)', async () => {
    const slow = await createHook('/limited-5', { rate_limit: 5, event_types: ['identity.approved'] });
    const fast = await createHook('/limited-100', { rate_limit: 100, event_types: ['identity.disabled'] });
    const publishMany = async (n: number, type: string) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i += 200) ids.push(...(await Promise.all(Array.from({ length: Math.min(200, n - i) }, () => publish(type)))));
      return ids;
    };
    const [slowIds, fastIds] = await Promise.all([publishMany(110, 'identity.approved'), publishMany(2200, 'identity.disabled')]);
    await consumer.waitFor(() => at('/limited-5').length >= 110 && at('/limited-100').length >= 2200, 120_000);
    for (const [path, rate, ids] of [
      ['/limited-5', 5, slowIds],
      ['/limited-100', 100, fastIds],
    ] as const) {
      const w = windowsAt(path);
      if (w.worst > rate) console.log(`${path}: ${w.times.join(' ')}`);
      expect(w.worst).toBeLessThanOrEqual(rate);
      // A webhook gets R x 1000 / (1000 + answer time): 0.97 R and more with a consumer that answers
      // within 30 ms (the bench and the lane's fake-clock test show it). On a loaded test machine the
      // consumer in this process answers in hundreds of ms, and 100/s may be more than the whole node
      // then delivers, so only the slow webhook's rate is checked here, with a margin; the window
      // is checked for both and never gives.
      if (rate === 5) expect(w.steady).toBeGreaterThanOrEqual(0.6 * rate);
      expect(new Set(at(path).map((r) => JSON.parse(r.body).id))).toEqual(new Set(ids));
    }
    await dev.delete(`/v2/webhooks/${slow.id}`);
    await dev.delete(`/v2/webhooks/${fast.id}`);
  });

  it('retries a failing consumer (500, 500, 200) and records three attempts', async () => {
    let calls = 0;
    handlers.set('/flaky', () => (++calls <= 2 ? { status: 500, body: 'boom' } : { status: 200 }));
    const hook = await createHook('/flaky');
    const eventId = await publish();
    await consumer.waitFor(() => at('/flaky').length >= 3, 60_000);
    const times = at('/flaky').map((r) => r.receivedAt);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(2000); // backoff, not a hot loop
    const attempts = await eventually(
      async () => {
        const r = await dev.get(`/v2/webhooks/${hook.id}/deliveries`);
        return r.body.deliveries.length >= 3 && r.body.deliveries;
      },
      { what: 'three attempts' },
    );
    expect(attempts.map((a: { attempt: number; success: boolean; status_code: number }) => [a.attempt, a.success, a.status_code])).toEqual([
      [3, true, 200],
      [2, false, 500],
      [1, false, 500],
    ]);
    expect(attempts[2].response_body_excerpt).toBe('boom');
    expect((await dev.get(`/v2/events/${eventId}`)).body.undelivered_webhooks).toBe(0);
    await dev.delete(`/v2/webhooks/${hook.id}`);
  });

  it('a hanging consumer times out and is retried while other webhooks stay fast', async () => {
    handlers.set('/hang', () => ({ status: 200, hang: true }));
    const slow = await createHook('/hang', { event_types: ['identity.denied'] });
    const fast = await createHook('/fast', { event_types: ['identity.denied'] });
    const started = Date.now();
    await publish('identity.denied');
    await consumer.waitFor(() => at('/fast').length >= 1);
    const fastLatency = at('/fast')[0].receivedAt - started;
    expect(fastLatency).toBeLessThan(8000); // well under the 10 s timeout the slow one is stuck in
    const attempt = await eventually(
      async () => {
        const r = await dev.get(`/v2/webhooks/${slow.id}/deliveries`);
        return r.body.deliveries.length >= 1 && r.body.deliveries[0];
      },
      { timeoutMs: 30_000, what: 'timeout recorded' },
    );
    expect(attempt).toMatchObject({ success: false, status_code: null, delivery_status: 'PENDING' });
    expect(attempt.error).toMatch(/timeout/i);
    await dev.delete(`/v2/webhooks/${slow.id}`);
    await dev.delete(`/v2/webhooks/${fast.id}`);
  });

  it('test events carry is_test, reach only that webhook; other accounts never get our events', async () => {
    const target = await createHook('/test-target');
    const bystander = await createHook('/bystander');
    const other = await platform.account('other');
    const otherDev = api.as(await other.token('eve', ['developer']));
    const foreign = await otherDev.post('/v2/webhooks', {
      name: 'foreign',
      url: `${consumer.url}/foreign`,
      auth_type: 'API_KEY',
      api_key: { header: 'X-K', key: 'kkkk' },
      event_types: ['identity.*'],
    });
    expect(foreign.status).toBe(201);

    const res = await dev.post(`/v2/webhooks/${target.id}/test`, { event_type: 'identity.approved' });
    expect(res.status).toBe(202);
    await consumer.waitFor(() => at('/test-target').length >= 1);
    expect(JSON.parse(at('/test-target')[0].body)).toMatchObject({ id: res.body.event_id, is_test: true, type: 'identity.approved' });
    const testEvent = await dev.get(`/v2/events/${res.body.event_id}`);
    expect(testEvent.body.is_test).toBe(true);
    expect((await dev.get('/v2/events?is_test=true')).body.events.map((e: { id: string }) => e.id)).toContain(res.body.event_id);
    expect((await dev.get('/v2/events')).body.events.map((e: { id: string }) => e.id)).not.toContain(res.body.event_id);
    expect((await otherDev.get(`/v2/events/${res.body.event_id}`)).status).toBe(404);

    // A real event of our account, then a marker event to the other account: once the marker
    // arrives, everything published before it has been fanned out.
    const ours = await publish();
    await consumer.waitFor(() => at('/bystander').some((r) => JSON.parse(r.body).id === ours));
    const marker = await publish('identity.approved', other.accountId);
    await consumer.waitFor(() => at('/foreign').some((r) => JSON.parse(r.body).id === marker));
    expect(at('/foreign').map((r) => JSON.parse(r.body).id)).toEqual([marker]);
    expect(at('/bystander').some((r) => JSON.parse(r.body).id === res.body.event_id)).toBe(false);
    await dev.delete(`/v2/webhooks/${target.id}`);
    await dev.delete(`/v2/webhooks/${bystander.id}`);
    await otherDev.delete(`/v2/webhooks/${foreign.body.id}`);
  });

  it('keeps malformed events and unknown accounts aside on events-dead.> with the reason', async () => {
    const js = nc.jetstream();
    await js.publish('events.identity.approved', 'not json', { msgID: randomUUID() });
    await publish('identity.approved', randomUUID());
    const jsm = await nc.jetstreamManager();
    await eventually(async () => (await jsm.streams.info('EVENTS_DEAD')).state.messages >= 2, { what: 'dead letters' });
    const malformed = await jsm.streams.getMessage('EVENTS_DEAD', { last_by_subj: 'events-dead.malformed' });
    expect(malformed.header.get('Webhooks-Dead-Reason')).toMatch(/JSON/);
    const unknown = await jsm.streams.getMessage('EVENTS_DEAD', { last_by_subj: 'events-dead.unknown-account' });
    expect(unknown.header.get('Webhooks-Dead-Reason')).toMatch(/does not exist/);
  });

  it('keeps an event Postgres cannot store aside without holding back the events around it', async () => {
    const hook = await createHook('/around-poison', { event_types: ['identity.documents_required'] });
    const type = 'identity.documents_required';
    const js = nc.jetstream();
    const before = await publish(type);
    const poison = randomUUID();
    await js.publish(`events.${type}`, JSON.stringify(testEvent(accountId, poison, type, { note: 'nul\u0000here' })), { msgID: poison });
    const after = await publish(type);
    await consumer.waitFor(() => [before, after].every((id) => at('/around-poison').some((r) => JSON.parse(r.body).id === id)));
    const jsm = await nc.jetstreamManager();
    const dead = await eventually(
      async () => {
        const m = await jsm.streams.getMessage('EVENTS_DEAD', { last_by_subj: 'events-dead.invalid' }).catch(() => null);
        return m?.json<{ id: string }>().id === poison ? m : undefined;
      },
      { what: 'poison event kept aside' },
    );
    expect(dead!.header.get('Webhooks-Dead-Reason')).toMatch(/NUL/);
    expect((await dev.get(`/v2/events/${poison}`)).status).toBe(404);
    await dev.delete(`/v2/webhooks/${hook.id}`);
  });

  it('reads back an event of any accepted year as it was published (years 1-99 too)', async () => {
    const id = randomUUID();
    await publishEvent(nc.jetstream(), { ...testEvent(accountId, id), time: '0050-06-01T00:00:00Z' });
    await eventually(async () => (await dev.get(`/v2/events/${id}`)).status === 200);
    expect((await dev.get(`/v2/events/${id}`)).body.created_at).toBe('0050-06-01T00:00:00.000Z');
    const page = await dev.get(`/v2/events?created_at.lt=0100-01-01T00:00:00Z`);
    expect(page.body.events.map((e: { id: string; created_at: string }) => [e.id, e.created_at])).toContainEqual([id, '0050-06-01T00:00:00.000Z']);
  });

  it('validates event filters: an impossible date is a 400', async () => {
    for (const q of ['created_at.gt=2024-13-45T99:99:99Z', 'created_at.lt=2024-02-30T00:00:00Z', 'order=sideways', 'is_test=maybe', 'type=identity.exploded']) {
      const res = await dev.get(`/v2/events?${q}`);
      expect(res.status).toBe(400);
    }
    expect((await dev.get('/v2/events?created_at.gte=2024-02-29T00:00:00Z&order=ASC')).status).toBe(200);
  });

  it('undelivered_webhooks forgets a deleted webhook; a bare redeliver POST works', async () => {
    handlers.set('/doomed', () => ({ status: 500 }));
    const doomed = await createHook('/doomed', { event_types: ['identity.kyc_refresh.expired'] });
    const eventId = await publish('identity.kyc_refresh.expired');
    await consumer.waitFor(() => at('/doomed').length >= 1);
    await eventually(async () => (await dev.get(`/v2/events/${eventId}`)).body.undelivered_webhooks === 1);
    const bare = await dev.request('POST', `/v2/events/${eventId}/redeliver`);
    expect(bare.status).toBe(202);
    expect(bare.body.webhook_ids).toEqual([doomed.id]);
    await dev.delete(`/v2/webhooks/${doomed.id}`);
    expect((await dev.get(`/v2/events/${eventId}`)).body.undelivered_webhooks).toBe(0);
  });

  it('redelivers an event on request', async () => {
    const hook = await createHook('/redeliver');
    const eventId = await publish();
    await consumer.waitFor(() => at('/redeliver').length >= 1);
    await eventually(async () => (await dev.get(`/v2/events/${eventId}`)).body.undelivered_webhooks === 0);
    const none = await dev.post(`/v2/events/${eventId}/redeliver`, {});
    expect(none.status).toBe(202);
    expect(none.body.webhook_ids).toEqual([]); // already acknowledged
    const one = await dev.post(`/v2/events/${eventId}/redeliver`, { webhook_id: hook.id });
    expect(one.status).toBe(202);
    expect(one.body.webhook_ids).toEqual([hook.id]);
    await consumer.waitFor(() => at('/redeliver').length >= 2);
    // Ids in capitals are the same ids (once the second send's outcome is recorded).
    await eventually(async () => (await dev.get(`/v2/events/${eventId}`)).body.undelivered_webhooks === 0);
    const upper = await dev.post(`/v2/events/${eventId.toUpperCase()}/redeliver`, { webhook_id: hook.id.toUpperCase() });
    expect(upper.status).toBe(202);
    expect(upper.body.webhook_ids).toEqual([hook.id]);
    await consumer.waitFor(() => at('/redeliver').length >= 3);
    expect((await dev.post(`/v2/events/${randomUUID()}/redeliver`, {})).status).toBe(404);
    await dev.delete(`/v2/webhooks/${hook.id}`);
  });

  it('a redeliver asked for while an attempt is on its way is not settled by that attempt', async () => {
    const hook = await createHook('/redeliver-mid');
    let answered = 0;
    handlers.set('/redeliver-mid', () => (answered++ === 0 ? { status: 200, body: 'ok', delayMs: 1500 } : { status: 200, body: 'ok' }));
    const eventId = await publish();
    await consumer.waitFor(() => at('/redeliver-mid').length >= 1); // the first send, its answer held back
    const asked = await dev.post(`/v2/events/${eventId}/redeliver`, { webhook_id: hook.id });
    expect(asked.status).toBe(202);
    // The first send's success is recorded after the request: the row stays due, and the redelivery goes out.
    await consumer.waitFor(() => at('/redeliver-mid').length >= 2);
    await eventually(async () => (await dev.get(`/v2/events/${eventId}`)).body.undelivered_webhooks === 0);
    const [row] = await platform.sql<{ attempts: number; status: string }>('select attempts, status from deliveries where event_id = $1 and webhook_id = $2', [eventId, hook.id]);
    expect(row).toEqual({ attempts: 2, status: 'SUCCEEDED' });
    handlers.delete('/redeliver-mid');
    await dev.delete(`/v2/webhooks/${hook.id}`);
  });

  it('a test send to a webhook id in capitals is the same webhook: its delivery is in its own partition', async () => {
    // A webhook whose id in capitals would hash elsewhere, so a send keyed by the path as written shows.
    let hook = await createHook('/upper-0');
    for (let i = 1; partitionOf(hook.id.toUpperCase(), 8) === partitionOf(hook.id, 8); i++) {
      await dev.delete(`/v2/webhooks/${hook.id}`);
      hook = await createHook(`/upper-${i}`);
    }
    const res = await dev.post(`/v2/webhooks/${hook.id.toUpperCase()}/test`, { event_type: 'identity.approved' });
    expect(res.status).toBe(202);
    const [row] = await platform.sql<{ partition: number }>('select partition from deliveries where event_id = $1', [res.body.event_id]);
    expect(row.partition).toBe(partitionOf(hook.id, 8));
    await consumer.waitFor(() => consumer.requests.some((r) => r.path.startsWith('/upper-') && JSON.parse(r.body).id === res.body.event_id));
    await dev.delete(`/v2/webhooks/${hook.id}`);
  });
});
