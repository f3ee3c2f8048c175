import { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { connect, NatsConnection } from 'nats';
import { DeliveryRecorder } from '../apps/delivery-node/src/delivery/delivery-recorder';
import type { DeliveryItem } from '../apps/delivery-node/src/delivery/delivery-item';
import { partitionOf } from '@app/hashing';
import { deliverySubject, MAILBOX_CONSUMER_PREFIX, publishEvent, STREAM_DELIVERIES } from '@app/messaging';
import { ApiClient, eventually, HttpsConsumer, testEvent, TestPlatform, waitForWebhooksInKv } from '@app/testing';
import { useHarness } from './support/harness';

jest.setTimeout(180_000);

const PARTITIONS = 4;

/**
 * Nobody's bytes stop anybody else: hostile events, unstorable outcomes and malformed tasks fail
 * only themselves, in the same batches as well-behaved neighbours that are delivered regardless.
 */
describe('isolation (one node)', () => {
  const h = useHarness({
    env: { DELIVERY_PARTITIONS: String(PARTITIONS), DELIVERY_RECONCILE_AFTER_MS: '2000' },
    consumer: true,
    config: true,
    node: true,
    nats: true,
  });
  let platform: TestPlatform;
  let node: INestApplication;
  let consumer: HttpsConsumer;
  let nc: NatsConnection;
  let tenantA: { accountId: string; dev: ApiClient };
  let tenantB: { accountId: string; dev: ApiClient };
  const sql = <T extends object = any>(text: string, params: unknown[] = []) => platform.sql<T>(text, params);

  beforeAll(async () => {
    ({ platform, node, consumer, nc } = h);
    tenantA = await h.tenant('tenant-a');
    tenantB = await h.tenant('tenant-b');
  });

  async function createHook(dev: ApiClient, path: string, extra: Record<string, unknown> = {}, waitForKv = true) {
    const res = await dev.post('/v2/webhooks', {
      name: `hook${path.replace(/\//g, '-')}`,
      url: `${consumer.url}${path}`,
      auth_type: 'API_KEY',
      api_key: { header: 'X-Api-Key', key: 'key-0123456789' },
      event_types: ['identity.*'],
      rate_limit: 100,
      ...extra,
    });
    expect(res.status).toBe(201);
    if (waitForKv) await waitForWebhooksInKv(nc, [res.body.id]);
    return res.body as { id: string };
  }

  const event = (account: string, over: Record<string, unknown> = {}) => ({ ...testEvent(account, randomUUID()), ...over });

  async function deadLetters(): Promise<{ code: string; reason: string; data: Buffer; truncated?: string }[]> {
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info('EVENTS_DEAD');
    const out = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage('EVENTS_DEAD', { seq }).catch(() => null);
      if (!m) continue;
      out.push({
        code: m.subject.slice('events-dead.'.length),
        reason: m.header.get('Webhooks-Dead-Reason'),
        data: Buffer.from(m.data),
        truncated: m.header.get('Webhooks-Dead-Truncated') || undefined,
      });
    }
    return out;
  }

  it('hostile events go aside alone with a reason; the events around them, in the same batches, are delivered', async () => {
    const hook = await createHook(tenantB.dev, '/neighbour');
    const a = tenantA.accountId;
    const b = tenantB.accountId;
    const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    const valid = JSON.stringify(event(b));
    const hostile: { label: string; subject: string; data: string | Uint8Array; code: string }[] = [
      {
        label: '5,000 levels of nesting',
        subject: 'events.identity.approved',
        data: JSON.stringify(event(b)).replace('{"identity_id":"i-1"}', `{"x":${deep(5000)}}`),
        code: 'too-deep',
      },
      { label: '100,000 levels of nesting', subject: 'events.identity.approved', data: deep(100_000), code: 'too-deep' },
      { label: 'an object of 600 KB', subject: 'events.identity.approved', data: JSON.stringify(event(b, { object: { pad: 'x'.repeat(600 * 1024) } })), code: 'too-large' },
      { label: 'a 950 KB body of garbage', subject: 'events.identity.approved', data: new Uint8Array(950 * 1024).fill(0x7b), code: 'too-large' },
      { label: 'a lone surrogate', subject: 'events.identity.approved', data: JSON.stringify(event(b, { object: { s: 'a\uD800b' } })), code: 'invalid' },
      { label: 'a NUL character', subject: 'events.identity.approved', data: JSON.stringify(event(b, { object: { s: 'a\u0000b' } })), code: 'invalid' },
      { label: 'invalid UTF-8 bytes', subject: 'events.identity.approved', data: Uint8Array.from([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28, 0x7d]), code: 'malformed' },
      { label: 'an empty body', subject: 'events.identity.approved', data: '', code: 'malformed' },
      { label: 'a JSON array', subject: 'events.identity.approved', data: '[1,2,3]', code: 'malformed' },
      { label: 'JSON null', subject: 'events.identity.approved', data: 'null', code: 'malformed' },
      { label: 'an id of the wrong type', subject: 'events.identity.approved', data: JSON.stringify(event(b, { id: 42 })), code: 'invalid' },
      { label: 'an object that is a string', subject: 'events.identity.approved', data: JSON.stringify(event(b, { object: 'x' })), code: 'invalid' },
      { label: 'a time that is no time', subject: 'events.identity.approved', data: JSON.stringify(event(b, { time: 'tomorrow' })), code: 'invalid' },
      { label: 'missing fields', subject: 'events.identity.approved', data: '{}', code: 'invalid' },
      { label: 'an unknown account', subject: 'events.identity.approved', data: JSON.stringify(event(randomUUID())), code: 'unknown-account' },
      {
        label: 'an unknown type with a line break',
        subject: 'events.identity.exploded',
        data: JSON.stringify(event(b, { type: 'identity.exploded\r\nX-Injected: 1' })),
        code: 'unknown-type',
      },
      { label: 'a type that is not its subject', subject: 'events.identity.denied', data: valid, code: 'invalid' },
    ];
    // Odd but valid: delivered like any other.
    const odd = [
      event(b, { object: { big: 1e308, neg: -0, proto: JSON.parse('{"__proto__":{"polluted":true}}'), unicode: '\uD83D\uDE00 \u00e9', nested: JSON.parse(deep(20)) } }),
      event(b, { extra_field: { anything: [1, 'two'] } }),
    ];
    const good = Array.from({ length: 30 }, () => event(b));
    const js = nc.jetstream();
    // All in one burst, interleaved, so fan-out sees them in the same micro-batches.
    const pubs: Promise<unknown>[] = [];
    const all = [
      ...good.map((e) => ({ subject: 'events.identity.approved', data: JSON.stringify(e) })),
      ...hostile,
      ...odd.map((e) => ({ subject: 'events.identity.approved', data: JSON.stringify(e) })),
    ];
    all.sort(() => Math.random() - 0.5);
    for (const m of all) pubs.push(js.publish(m.subject, m.data, { msgID: randomUUID() }));
    // The same id published by two accounts: the second goes aside (never mixed with the first).
    const shared = event(a);
    await Promise.all(pubs);
    await publishEvent(js, shared);
    await eventually(async () => (await sql('select 1 from events where id = $1', [shared.id])).length === 1, { what: 'first use of the id' });
    await js.publish('events.identity.approved', JSON.stringify({ ...shared, account_id: b }), { msgID: randomUUID() });

    const expected = [...good, ...odd].map((e) => e.id).sort();
    await consumer.waitFor(() => expected.every((id) => h.received('/neighbour').has(id)), 60_000);
    const dead = (await eventually(
      async () => {
        const d = await deadLetters();
        return d.length >= hostile.length + 1 && d;
      },
      { what: 'every hostile event set aside', timeoutMs: 30_000 },
    )) as Awaited<ReturnType<typeof deadLetters>>;
    expect(dead).toHaveLength(hostile.length + 1);
    for (const h of hostile) {
      const bytes = Buffer.from(h.data);
      const copy = dead.find((d) => (d.truncated ? bytes.subarray(0, d.data.length).equals(d.data) : d.data.equals(bytes)));
      expect({ label: h.label, code: copy?.code }).toEqual({ label: h.label, code: h.code });
      expect(copy!.reason.length).toBeGreaterThan(5);
      expect(copy!.reason).not.toMatch(/[\r\n]/);
    }
    expect(dead.find((d) => d.code === 'duplicate-id')?.reason).toMatch(/another account/);
    expect(
      dead
        .filter((d) => d.truncated)
        .map((d) => d.truncated)
        .sort(),
    ).toEqual([String(950 * 1024), String(Buffer.byteLength(hostile[2].data))].sort());
    // Nothing of the hostile ones was recorded; every good one was, once, and delivered.
    const rows = await sql<{ status: string; n: string }>('select status, count(*) as n from deliveries where webhook_id = $1 group by status', [hook.id]);
    await eventually(
      async () => {
        const r = await sql<{ status: string; n: string }>('select status, count(*) as n from deliveries where webhook_id = $1 group by status', [hook.id]);
        return r.length === 1 && r[0].status === 'SUCCEEDED' && Number(r[0].n) === expected.length;
      },
      { what: `deliveries succeeded (was ${JSON.stringify(rows)})` },
    );
    expect(h.received('/neighbour').size).toBe(expected.length);
  });

  it('a batch of outcomes with one Postgres cannot take records all the others, with outside text made storable', async () => {
    const hook = await createHook(tenantA.dev, '/recorder');
    const recorder = node.get(DeliveryRecorder);
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of ids) {
      await sql(`insert into events (id, account_id, type, object_type, object, created_at) values ($1, $2, 'identity.approved', 'x', '{}', now())`, [id, tenantA.accountId]);
      await sql('insert into deliveries (event_id, webhook_id, account_id, partition) values ($1, $2, $3, 0)', [id, hook.id, tenantA.accountId]);
    }
    const item = (eventId: string): DeliveryItem => ({
      task: { event_id: eventId, webhook_id: hook.id, account_id: tenantA.accountId, type: 'identity.approved', time: new Date().toISOString(), is_test: false },
      partition: 0,
      attemptsBefore: 0,
      settle: () => undefined,
      release: () => undefined,
    });
    const hostileText = 'bad \u0000 bytes \uD800 and \uDC00 alone';
    // Issued together, so they share one batch; the middle one names an event id Postgres refuses.
    await Promise.all([
      recorder.attempt(item(ids[0]), { success: true, statusCode: 200, latencyMs: 5, responseExcerpt: hostileText }, 'SUCCEEDED', null),
      recorder.attempt(item('not-a-uuid'), { success: true, statusCode: 200, latencyMs: 5 }, 'SUCCEEDED', null),
      recorder.attempt(item(ids[1]), { success: false, statusCode: 500, error: hostileText, latencyMs: 1e12, retryAfterMs: 5 }, 'PENDING', new Date(Date.now() + 60_000)),
      recorder.state(item(ids[2]), 'FAILED', null, hostileText),
    ]);
    const rows = await sql<{ event_id: string; status: string; last_error: string | null; excerpt: string | null; error: string | null; latency_ms: number | null }>(
      `select d.event_id, d.status, d.last_error, a.response_excerpt as excerpt, a.error, a.latency_ms
       from deliveries d left join delivery_attempts a on a.event_id = d.event_id and a.webhook_id = d.webhook_id
       where d.event_id = any($1::uuid[]) order by array_position($1::uuid[], d.event_id)`,
      [ids],
    );
    expect(rows.map((r) => r.status)).toEqual(['SUCCEEDED', 'PENDING', 'FAILED']);
    expect(rows[0].excerpt).toBe('bad \uFFFD bytes \uFFFD and \uFFFD alone');
    expect(rows[1].error).toBe('bad \uFFFD bytes \uFFFD and \uFFFD alone');
    expect(rows[1].latency_ms).toBe(2147483647);
    expect(rows[2].last_error).toBe('bad \uFFFD bytes \uFFFD and \uFFFD alone');
  });

  it('a malformed task on a partition subject or in a mailbox is dropped alone; the tasks after it are delivered', async () => {
    const hook = await createHook(tenantB.dev, '/after-bad-task');
    const p = partitionOf(hook.id, PARTITIONS);
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    const mailboxes = (await jsm.consumers.list(STREAM_DELIVERIES).next()).filter((c) => c.name.startsWith(MAILBOX_CONSUMER_PREFIX)).map((c) => c.config.filter_subject!);
    expect(mailboxes.length).toBeLessThanOrEqual(1); // the node's mailbox, with node routing
    for (const subject of [deliverySubject(p), ...mailboxes]) {
      for (const data of ['not json', '{"event_id":"x","webhook_id":"y"}', JSON.stringify({ event_id: randomUUID(), webhook_id: 'nope', account_id: 7 }), '\u0000']) {
        await js.publish(subject, data);
      }
    }
    const e = event(tenantB.accountId);
    await publishEvent(js, e);
    await consumer.waitFor(() => h.received('/after-bad-task').has(e.id));
  });

  it('a webhook created and test-sent at once gets its test event; it is never failed for being new', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const hook = await createHook(tenantA.dev, `/brand-new-${i}`, {}, false);
      const sent = await tenantA.dev.post(`/v2/webhooks/${hook.id}/test`, { event_type: 'identity.approved' });
      expect(sent.status).toBe(202);
      ids.push(sent.body.event_id);
      await consumer.waitFor(() => h.received(`/brand-new-${i}`).has(sent.body.event_id), 30_000);
      await tenantA.dev.delete(`/v2/webhooks/${hook.id}`);
    }
    const failed = await sql(`select 1 from deliveries where event_id = any($1::uuid[]) and status = 'FAILED'`, [ids]);
    expect(failed).toHaveLength(0);
  });

  it('a delivery row whose task never reached NATS (or was lost) is re-driven and delivered', async () => {
    const hook = await createHook(tenantB.dev, '/lost-task');
    const p = partitionOf(hook.id, PARTITIONS);
    const ids = [randomUUID(), randomUUID()];
    // As if a crash came between the commit and the publish: rows exist, no task does.
    for (const id of ids) {
      await sql(`insert into events (id, account_id, type, object_type, object, created_at) values ($1, $2, 'identity.approved', 'x', '{}', now())`, [id, tenantB.accountId]);
      await sql('insert into deliveries (event_id, webhook_id, account_id, partition) values ($1, $2, $3, $4)', [id, hook.id, tenantB.accountId, p]);
    }
    await consumer.waitFor(() => ids.every((id) => h.received('/lost-task').has(id)), 60_000);
    await eventually(async () => (await sql(`select 1 from deliveries where event_id = any($1::uuid[]) and status = 'SUCCEEDED'`, [ids])).length === 2, { what: 'rows succeeded' });
    const metrics = await fetch(`${await nodeUrl()}/metrics`).then((r) => r.text());
    expect(Number(/webhook_deliveries_reconciled_total (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
  });

  // Last in this file: it stops this file's NATS server for a while.
  it("webhook changes made while the node's view was cut off reach it when NATS returns: a deleted webhook stops receiving, a new URL is used", async () => {
    const gone = await createHook(tenantB.dev, '/deleted-while-away');
    const moved = await createHook(tenantB.dev, '/before-move');
    await platform.nats.stop();
    try {
      expect((await tenantB.dev.delete(`/v2/webhooks/${gone.id}`)).status).toBe(204);
      expect((await tenantB.dev.patch(`/v2/webhooks/${moved.id}`, { url: `${consumer.url}/after-move` })).status).toBe(200);
    } finally {
      await platform.nats.restart();
    }
    await nc.close();
    nc = await connect({ servers: platform.nats.url });
    const url = await nodeUrl();
    await eventually(async () => (await fetch(`${url}/health`)).status === 200, { what: 'the node ready again', timeoutMs: 60_000 });
    // Publish until the moved webhook's new URL is used: the index has caught up.
    await eventually(
      async () => {
        await publishEvent(nc.jetstream(), event(tenantB.accountId));
        return h.received('/after-move').size > 0;
      },
      { what: 'the new URL in use', timeoutMs: 60_000, intervalMs: 1000 },
    );
    // From now on the index is current: fresh events go to the new URL only, none to the deleted webhook.
    const fresh = [event(tenantB.accountId), event(tenantB.accountId), event(tenantB.accountId)];
    for (const e of fresh) await publishEvent(nc.jetstream(), e);
    await consumer.waitFor(() => fresh.every((e) => h.received('/after-move').has(e.id)));
    expect([...h.received('/before-move')].filter((id) => fresh.some((e) => e.id === id))).toEqual([]);
    expect([...h.received('/deleted-while-away')].filter((id) => fresh.some((e) => e.id === id))).toEqual([]);
    const deadRows = await sql(`select status from deliveries where webhook_id = $1 and event_id = any($2::uuid[])`, [gone.id, fresh.map((e) => e.id)]);
    expect(deadRows).toEqual([]);
  });

  async function nodeUrl(): Promise<string> {
    if (!node.getHttpServer().listening) await node.listen(0, '127.0.0.1');
    return `http://127.0.0.1:${(node.getHttpServer().address() as { port: number }).port}`;
  }
});
