import { randomUUID } from 'node:crypto';
import { NatsConnection } from 'nats';
import { Client } from 'pg';
import { storableText } from '@app/domain';
import { publishEvent } from '@app/messaging';
import { ApiClient, eventually, makeTestPki, RawConnection, RawConsumer, RawRequest, startRawConsumer, testEvent, TestPlatform, waitForWebhooksInKv } from '@app/testing';
import { useHarness } from './support/harness';

jest.setTimeout(240_000);

/** The node's per-attempt timeout (DeliveryExecutor). */
const NODE_TIMEOUT_S = 10;
const EVENTS_PER_ACCOUNT = 3;

type Behave = (req: RawRequest, c: RawConnection) => void;
interface Hostile {
  name: string;
  /** A path on the shared raw consumer, or a URL of a server of its own. */
  behave?: Behave;
  url?: () => string;
  /** What the attempt log must say: an error text, or a status code. */
  expect: { error?: RegExp; status?: number; succeeded?: true };
}

const chunked = (status: number) => `HTTP/1.1 ${status} Hostile`;
const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

/**
 * Consumers that misbehave in every way the sender can see, all on the same origin as a well-behaved
 * webhook of another account, each with their own webhook: every attempt is recorded with a clear
 * text, nothing is lost, and the well-behaved webhook is neither slowed nor blocked.
 */
describe('hostile consumers', () => {
  const h = useHarness({ pki: true, env: { DELIVERY_PARTITIONS: '8' }, config: true, node: 'listen', nats: true });
  let platform: TestPlatform;
  let nodeApi: ApiClient;
  let api: ApiClient;
  let raw: RawConsumer;
  let stranger: RawConsumer;
  let plain: RawConsumer;
  let nc: NatsConnection;
  let pg: Client;

  const hostiles: Hostile[] = [
    { name: 'nul-bytes', behave: (_r, c) => c.respond(200, bytes('ok', [0, 0], 'still\u0000ok')), expect: { succeeded: true } },
    {
      name: 'invalid-utf8',
      behave: (_r, c) => c.respond(500, bytes('bad ', [0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0x80], ' bytes', [0xff])),
      expect: { status: 500, error: /^HTTP 500$/ },
    },
    {
      name: 'surrogates',
      behave: (_r, c) => c.respond(400, bytes('half ', [0xed, 0xa0, 0x80], ' pair ', [0xed, 0xb0, 0x80], ' cut ', [0xf0, 0x9f, 0x98])),
      expect: { status: 400, error: /^HTTP 400$/ },
    },
    { name: 'body-50mb', behave: (_r, c) => c.large('HTTP/1.1 200 Big', 50 * 1024 * 1024), expect: { succeeded: true } },
    { name: 'body-endless', behave: (_r, c) => c.endless(chunked(500)), expect: { status: 500, error: /^HTTP 500$/ } },
    { name: 'headers-late', behave: (_r, c) => c.after((NODE_TIMEOUT_S + 3) * 1000, () => c.respond(200)), expect: { error: /^timeout waiting for response headers \(10 s\)$/ } },
    {
      name: 'body-trickle',
      behave: (_r, c) => {
        c.write(`${chunked(503)}\r\ntransfer-encoding: chunked\r\n\r\n`);
        c.every(500, () => c.write('1\r\n.\r\n'));
      },
      expect: { status: 503, error: /^HTTP 503, then timeout reading response body \(10 s\)$/ },
    },
    { name: 'hang', behave: () => undefined, expect: { error: /^timeout waiting for response headers \(10 s\)$/ } },
    { name: 'reset', behave: (_r, c) => c.reset(), expect: { error: /^connection reset by peer$/ } },
    { name: 'close-early', behave: (_r, c) => c.destroy(), expect: { error: /^connection closed by peer before a complete response$/ } },
    {
      name: 'close-mid-body',
      behave: (_r, c) => {
        c.write('HTTP/1.1 502 Half\r\ncontent-length: 5000\r\n\r\npartial');
        c.after(100, () => c.destroy());
      },
      expect: { status: 502, error: /^HTTP 502, then connection closed by peer mid-body$/ },
    },
    { name: 'tls-unknown-ca', url: () => stranger.url, expect: { error: /^tls certificate rejected: .+\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/ } },
    { name: 'not-tls', url: () => plain.url.replace('http:', 'https:'), expect: { error: /^tls handshake failed: the server does not speak TLS/ } },
    ...[301, 302, 307].map((status) => ({
      name: `redirect-${status}`,
      behave: (_r: RawRequest, c: RawConnection) => c.respond(status, '', { location: 'https://attacker.example/steal' }),
      expect: { status, error: new RegExp(`^redirect not followed \\(HTTP ${status} to https://attacker\\.example/steal\\)$`) },
    })),
    { name: 'not-http', behave: (_r, c) => c.write(bytes('SSH-2.0-OpenSSH_9.6\r\n', [0, 0xff, 0xfe], '\r\n\r\n')), expect: { error: /^response is not HTTP \(.+\)$/ } },
    { name: 'huge-header', behave: (_r, c) => c.respond(200, 'ok', { 'x-huge': 'h'.repeat(200_000) }), expect: { error: /^response headers too large$/ } },
    { name: 'garbage-retry-after', behave: (_r, c) => c.respond(503, 'busy', { 'retry-after': 'when\u00ff pigs fly' }), expect: { status: 503, error: /^HTTP 503$/ } },
    { name: 'status-999', behave: (_r, c) => c.respond(999, 'odd'), expect: { status: 999, error: /^HTTP 999 is not a valid status code$/ } },
    { name: 'status-600', behave: (_r, c) => c.respond(600, 'odd'), expect: { status: 600, error: /^HTTP 600 is not a valid status code$/ } },
  ];
  const ids = new Map<string, string>(); // hostile name -> webhook id
  const accountOf = new Map<string, string>(); // hostile name -> account id
  let good: { id: string; accountId: string };

  beforeAll(async () => {
    ({ platform, nodeApi, api, nc } = h);
    const behaviours = new Map(hostiles.filter((h) => h.behave).map((h) => [`/${h.name}`, h.behave!]));
    raw = await startRawConsumer({ pki: h.pki, handler: (req, c) => (behaviours.get(req.path) ?? ((_r, conn) => conn.respond(200, 'ok')))(req, c) });
    stranger = await startRawConsumer({ pki: makeTestPki() });
    plain = await startRawConsumer({ onConnection: (c) => c.socket.once('data', () => c.write('HTTP/1.1 400 Bad Request\r\n\r\n')) });
    pg = new Client({ connectionString: platform.db.url });
    await pg.connect();
    h.onClose(() => pg.end());
    // The consumers close first: the node's hanging requests then end at once instead of at their timeout.
    h.onClose(() => Promise.all([raw.close(), stranger.close(), plain.close()]));
  });

  async function hook(dev: ApiClient, name: string, url: string): Promise<string> {
    const res = await dev.post('/v2/webhooks', {
      name,
      url,
      auth_type: 'API_KEY',
      api_key: { header: 'X-Api-Key', key: `key-${name}` },
      event_types: ['identity.*'],
    });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  async function publish(account: string): Promise<string> {
    const id = randomUUID();
    await publishEvent(nc.jetstream(), testEvent(account, id));
    return id;
  }

  it('records every hostile attempt with a clear text, loses nothing, and keeps the other account fast', async () => {
    // Hostile webhooks over two accounts (at most 10 webhooks per account); the good one in a third.
    const hostileAccounts: string[] = [];
    for (let i = 0; i * 10 < hostiles.length; i++) {
      const acct = await platform.account(`hostile-${i}`);
      hostileAccounts.push(acct.accountId);
      const dev = api.as(await acct.token('mallory', ['developer']));
      for (const h of hostiles.slice(i * 10, i * 10 + 10)) {
        ids.set(h.name, await hook(dev, h.name, h.url ? h.url() : `${raw.url}/${h.name}`));
        accountOf.set(h.name, acct.accountId);
      }
    }
    const goodAcct = await platform.account('good');
    good = { id: await hook(api.as(await goodAcct.token('alice', ['developer'])), 'good', `${raw.url}/good`), accountId: goodAcct.accountId };
    await waitForWebhooksInKv(nc, [...ids.values(), good.id]);

    const published = Date.now();
    const events = new Map<string, string[]>();
    // Interleaved, so the hostile work is in flight while the good events arrive.
    for (let n = 0; n < EVENTS_PER_ACCOUNT; n++) {
      for (const account of [...hostileAccounts, good.accountId]) events.set(account, [...(events.get(account) ?? []), await publish(account)]);
    }

    // The good webhook gets every event, well before the hanging ones time out.
    const goodEvents = events.get(good.accountId)!;
    await raw.waitFor((reqs) => goodEvents.every((id) => reqs.some((r) => r.path === '/good' && JSON.parse(r.body).id === id)), 60_000);
    const goodLast = Math.max(...raw.requests.filter((r) => r.path === '/good').map((r) => r.receivedAt));
    expect(goodLast - published).toBeLessThan((NODE_TIMEOUT_S - 2) * 1000);
    await eventually(
      async () => {
        const { rows } = await pg.query(`select count(*)::int as n from deliveries where webhook_id = $1 and status = 'SUCCEEDED'`, [good.id]);
        return rows[0].n === EVENTS_PER_ACCOUNT;
      },
      { timeoutMs: 30_000, what: 'the good deliveries SUCCEEDED' },
    );

    // Every hostile (event, webhook) pair has its delivery row and at least one recorded attempt.
    const expected = hostiles.flatMap((h) => events.get(accountOf.get(h.name)!)!.map((eventId) => ({ h, eventId })));
    type Row = { event_id: string; webhook_id: string; status: string; next_attempt_at: Date | null; attempts: number; last_error: string | null; last_status_code: number | null };
    type Attempt = {
      event_id: string;
      webhook_id: string;
      attempt: number;
      success: boolean;
      status_code: number | null;
      error: string | null;
      response_excerpt: string | null;
      account_id: string;
    };
    let rows: Row[] = [];
    let attempts: Attempt[] = [];
    const key = (e: string, w: string) => `${e}:${w}`;
    await eventually(
      async () => {
        rows = (
          await pg.query(`select event_id, webhook_id, status, next_attempt_at, attempts, last_error, last_status_code from deliveries where webhook_id = any($1::uuid[])`, [
            [...ids.values()],
          ])
        ).rows;
        attempts = (
          await pg.query(
            `select event_id, webhook_id, attempt, success, status_code, error, response_excerpt, account_id from delivery_attempts where webhook_id = any($1::uuid[]) order by attempt`,
            [[...ids.values()]],
          )
        ).rows;
        const tried = new Set(attempts.map((a) => key(a.event_id, a.webhook_id)));
        return expected.every(({ h, eventId }) => tried.has(key(eventId, ids.get(h.name)!)));
      },
      { timeoutMs: 120_000, intervalMs: 500, what: 'an attempt recorded for every hostile delivery' },
    );

    const problems: string[] = [];
    for (const { h, eventId } of expected) {
      const webhookId = ids.get(h.name)!;
      const row = rows.find((r) => r.event_id === eventId && r.webhook_id === webhookId);
      const first = attempts.find((a) => a.event_id === eventId && a.webhook_id === webhookId && a.attempt === 1);
      const what = `${h.name} (event ${eventId})`;
      if (!row) {
        problems.push(`${what}: no delivery row`);
        continue;
      }
      if (!first) {
        problems.push(`${what}: no first attempt`);
        continue;
      }
      if (first.account_id !== accountOf.get(h.name)) problems.push(`${what}: attempt recorded under another account`);
      for (const text of [first.error, first.response_excerpt]) {
        if (text !== null && (text.includes('\u0000') || storableText(text) !== text)) problems.push(`${what}: unstorable text ${JSON.stringify(text)}`);
      }
      if (h.expect.succeeded) {
        if (!first.success || row.status !== 'SUCCEEDED') problems.push(`${what}: expected SUCCEEDED, got ${row.status} / ${first.error}`);
        continue;
      }
      if (first.success) problems.push(`${what}: recorded as a success`);
      if (!first.error?.trim()) problems.push(`${what}: no error text`);
      if (h.expect.error && !h.expect.error.test(first.error ?? '')) problems.push(`${what}: error ${JSON.stringify(first.error)} does not match ${h.expect.error}`);
      if (h.expect.status !== undefined && first.status_code !== h.expect.status) problems.push(`${what}: status ${first.status_code}, expected ${h.expect.status}`);
      if (h.expect.status === undefined && first.status_code !== null) problems.push(`${what}: unexpected status ${first.status_code}`);
      if (row.status !== 'PENDING' || !row.next_attempt_at) problems.push(`${what}: expected PENDING with a next attempt time, got ${row.status} ${row.next_attempt_at}`);
    }
    expect(problems).toEqual([]);

    // Excerpts of odd bodies were stored, made readable.
    const excerptOf = (name: string) => attempts.find((a) => a.webhook_id === ids.get(name))?.response_excerpt;
    expect(excerptOf('nul-bytes')).toBe('ok\uFFFD\uFFFDstill\uFFFDok');
    expect(excerptOf('invalid-utf8')).toMatch(/^bad \uFFFD+\(\uFFFD+ bytes\uFFFD$/);
    expect(excerptOf('surrogates')).toMatch(/^half \uFFFD+ pair \uFFFD+ cut \uFFFD*$/); // a cut-off last character is dropped
    expect(excerptOf('close-mid-body')).toBe('partial');
    expect(excerptOf('body-50mb')).toMatch(/^y{1000,}$/);

    // The good account sees only its own deliveries; the node is still healthy and still delivers.
    const { rows: foreign } = await pg.query(`select count(*)::int as n from delivery_attempts where account_id = $1 and webhook_id <> $2`, [good.accountId, good.id]);
    expect(foreign[0].n).toBe(0);
    const health = await nodeApi.get('/health');
    expect(health.status === 200 ? 200 : `${health.status} ${health.text.slice(0, 500)}`).toBe(200);
    const after = await publish(good.accountId);
    await raw.waitFor((reqs) => reqs.some((r) => r.path === '/good' && JSON.parse(r.body).id === after), 30_000);
  });
});
