import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { signPayload } from '@app/crypto';
import { publishEvent } from '@app/messaging';
import { createToken } from '@app/persistence';
import { ApiClient, eventually, freePort, testEvent, waitForWebhooksInKv } from '@app/testing';
import { Harness, startHarness } from './support/harness';

jest.setTimeout(180_000);

/**
 * The consumer examples in examples/ run as child processes behind HTTPS (a CA made here, trusted by
 * the delivery node) against the running platform. Each writes one JSON line per decision on stdout,
 * which is what these tests read.
 */
interface ExampleLine {
  msg: string;
  event_id?: string;
  webhook_id?: string;
  reason?: string;
  object?: unknown;
  object_type?: string;
}

interface Example {
  url: string;
  lines: ExampleLine[];
  proc: ChildProcess;
  output(): string;
}

const EXAMPLES = [
  { name: 'node-express', command: process.execPath, args: [join(__dirname, '..', 'examples', 'node-express', 'server.js')], auth: 'API_KEY' as const },
  { name: 'python', command: 'python3', args: [join(__dirname, '..', 'examples', 'python', 'consumer.py')], auth: 'OAUTH' as const },
];

async function startExample(command: string, args: string[], env: Record<string, string>): Promise<Example> {
  const proc = spawn(command, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: ExampleLine[] = [];
  let out = '';
  let partial = '';
  proc.stdout.on('data', (d: Buffer) => {
    out = (out + d).slice(-20_000);
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p));
  });
  proc.stderr.on('data', (d: Buffer) => (out = (out + d).slice(-20_000)));
  const listening = await eventually(
    () => {
      if (proc.exitCode !== null) throw new Error(`example exited (${proc.exitCode}): ${out}`);
      return lines.find((l) => l.msg === 'listening') as (ExampleLine & { url: string }) | undefined;
    },
    { timeoutMs: 30_000, what: `${command} example listening` },
  );
  return { url: listening!.url, lines, proc, output: () => out };
}

describe.each(EXAMPLES)('consumer example $name', ({ name, command, args, auth }) => {
  let h: Harness;
  let dev: ApiClient;
  let accountId: string;
  let example: Example;
  let hook: { id: string; signing_secret: string };
  let tls: Agent;
  const oauth = { client_id: `client-${name}`, client_secret: `secret-${randomUUID()}` };
  const apiKey = `key-${randomUUID()}`;

  beforeAll(async () => {
    h = await startHarness({ pki: true, config: true, node: true, nats: true, env: { DELIVERY_PARTITIONS: '4' } });
    tls = new Agent({ connect: { ca: h.pki.caPem } });
    h.onClose(() => tls.close());
    ({ accountId, dev } = await h.tenant(name));

    // The webhook first (its signing secret is the example's setting), then the example on its port.
    const port = await freePort();
    const base = `https://127.0.0.1:${port}`;
    const res = await dev.post('/v2/webhooks', {
      name: `example-${name}`,
      url: `${base}/webhooks`,
      auth_type: auth,
      ...(auth === 'API_KEY' ? { api_key: { header: 'X-Api-Key', key: apiKey } } : { oauth: { client_url: `${base}/oauth/token`, ...oauth } }),
      event_types: ['identity.*'],
      rate_limit: 50,
    });
    expect(res.status).toBe(201);
    hook = res.body;
    await waitForWebhooksInKv(h.nc, [hook.id]);
    example = await startExample(command, args, {
      PORT: String(port),
      TLS_CERT_FILE: h.pki.certFile,
      TLS_KEY_FILE: h.pki.keyFile,
      WEBHOOK_SECRET: hook.signing_secret,
      ...(auth === 'API_KEY' ? { API_KEY: apiKey } : { OAUTH_CLIENT_ID: oauth.client_id, OAUTH_CLIENT_SECRET: oauth.client_secret }),
      PLATFORM_URL: h.api.baseUrl,
      PLATFORM_TOKEN: (await createToken(h.platform.orm.em.fork(), accountId, `consumer-${name}`, ['developer'])).token,
    });
    h.onClose(async () => {
      if (example.proc.exitCode !== null) return;
      const gone = new Promise((r) => example.proc.once('exit', r));
      example.proc.kill('SIGTERM');
      await gone;
    });
    expect(example.url).toBe(`${base}/webhooks`);
  });

  afterAll(() => h?.close());

  const linesFor = (eventId: string, msg: string) => example.lines.filter((l) => l.event_id === eventId && l.msg === msg);

  async function publish(object: Record<string, unknown>) {
    const id = randomUUID();
    await publishEvent(h.nc.jetstream(), testEvent(accountId, id, 'identity.approved', object));
    return id;
  }

  /** A POST straight to the example, as a forger would send it. */
  async function post(headers: Record<string, string>, body: string) {
    const res = await request(example.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, dispatcher: tls });
    await res.body.dump();
    return res.statusCode;
  }

  async function credentials(): Promise<Record<string, string>> {
    if (auth === 'API_KEY') return { 'x-api-key': apiKey };
    const res = await request(example.url.replace('/webhooks', '/oauth/token'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...oauth }).toString(),
      dispatcher: tls,
    });
    expect(res.statusCode).toBe(200);
    const body = (await res.body.json()) as { access_token: string };
    return { authorization: `Bearer ${body.access_token}` };
  }

  it('verifies the delivery, answers 2xx and fetches the full event from the events API', async () => {
    const object = { identity_id: `identity-${name}`, status: 'APPROVED' };
    const eventId = await publish(object);
    const line = await eventually(() => linesFor(eventId, 'processed')[0], { timeoutMs: 60_000, what: `${name} processed ${eventId}` });
    expect(line).toMatchObject({ object_type: 'identity_summary_status_change', object });
    // The platform saw a 2xx: the delivery is done.
    await eventually(async () => (await dev.get(`/v2/events/${eventId}`)).body.undelivered_webhooks === 0, { what: 'event delivered' });
    expect(example.lines.filter((l) => l.msg === 'rejected')).toEqual([]);
  });

  it('takes a redelivered event once (deduplicated on the event id)', async () => {
    const eventId = await publish({ identity_id: `redelivered-${name}` });
    await eventually(() => linesFor(eventId, 'processed').length === 1, { timeoutMs: 60_000, what: 'first delivery processed' });
    const res = await dev.post(`/v2/events/${eventId}/redeliver`, { webhook_id: hook.id });
    expect(res.status).toBe(202);
    await eventually(() => linesFor(eventId, 'duplicate').length === 1, { timeoutMs: 60_000, what: 'redelivery seen as a duplicate' });
    expect(linesFor(eventId, 'processed')).toHaveLength(1);
  });

  it('treats a test send as a test event', async () => {
    const res = await dev.post(`/v2/webhooks/${hook.id}/test`, { event_type: 'identity.approved' });
    expect(res.status).toBe(202);
    await eventually(() => linesFor(res.body.event_id, 'test-event').length === 1, { timeoutMs: 60_000, what: 'test event seen' });
    expect(linesFor(res.body.event_id, 'processed')).toHaveLength(0);
  });

  it('rejects a forged signature, a stale timestamp and wrong credentials, and processes none of them', async () => {
    const creds = await credentials();
    const forgedId = randomUUID();
    const body = JSON.stringify({ id: forgedId, type: 'identity.approved', source: 'com.paxos', time: new Date().toISOString(), object: 'event', is_test: false });
    const now = Math.floor(Date.now() / 1000);
    const otherSecret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

    const forged = { 'webhook-id': forgedId, 'webhook-timestamp': String(now), 'webhook-signature': signPayload(otherSecret, forgedId, now, body) };
    expect(await post({ ...creds, ...forged }, body)).toBe(400);
    const tampered = { 'webhook-id': forgedId, 'webhook-timestamp': String(now), 'webhook-signature': signPayload(hook.signing_secret, forgedId, now, body) };
    expect(await post({ ...creds, ...tampered }, body.replace('"is_test":false', '"is_test":true '))).toBe(400);
    const stale = now - 6 * 60;
    expect(
      await post({ ...creds, 'webhook-id': forgedId, 'webhook-timestamp': String(stale), 'webhook-signature': signPayload(hook.signing_secret, forgedId, stale, body) }, body),
    ).toBe(400);
    const wrongCreds: Record<string, string> = auth === 'API_KEY' ? { 'x-api-key': 'not-the-key' } : { authorization: 'Bearer not-a-token' };
    expect(await post({ ...wrongCreds, ...tampered }, body)).toBe(401);

    // The log line may reach us after the answer does.
    const rejected = await eventually(
      () => {
        const lines = example.lines.filter((l) => l.msg === 'rejected' && l.webhook_id === forgedId);
        return lines.length >= 4 ? lines : undefined;
      },
      { what: 'four rejections logged' },
    );
    expect(rejected!.map((l) => l.reason?.split(':')[0])).toEqual(['signature', 'signature', 'signature', 'unauthorised']);
    expect(example.lines.filter((l) => l.event_id === forgedId)).toEqual([]);
    // Signed with the right secret and sent with the right credentials, the same request is taken in.
    expect(await post({ ...creds, ...tampered }, body)).toBe(204);
    await eventually(() => linesFor(forgedId, 'processed').length + linesFor(forgedId, 'failed').length === 1, { timeoutMs: 30_000, what: 'the genuine request taken in' });
  });
});
