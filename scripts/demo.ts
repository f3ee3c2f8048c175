import 'reflect-metadata';
import { MikroORM } from '@mikro-orm/postgresql';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { objectTypeOf } from '../libs/domain/src';
import { connectNats, KV_WEBHOOKS, publishEvent } from '../libs/messaging/src';
import { createAccount, createToken, ormConfig } from '../libs/persistence/src';
import { fail, parseArgs } from './cli-args';
import { ensureDemoPki } from './dev/demo-pki';

/**
 * `npm run demo`, on top of a running cluster started by `npm run demo:start`: creates an account,
 * a token and an API-key webhook pointing at the Node example consumer (examples/node-express, run
 * here over HTTPS with the demo CA the nodes trust), publishes events and shows each one arrive,
 * verified and fetched from the events API; then a redelivery (deduplicated) and a test send.
 */
const REPO = join(__dirname, '..', '..');
const DEV_DATA_DIR = process.env.DEV_DATA_DIR || join(REPO, '.dev');
const say = (line: string) => process.stdout.write(`[demo] ${line}\n`);

interface ConsumerLine {
  msg: string;
  event_id?: string;
  type?: string;
  object?: unknown;
  reason?: string;
  url?: string;
  error?: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, timeoutMs: number, check: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const { flags } = parseArgs(process.argv.slice(2));
  const count = Number(flags.count ?? 3);
  if (!Number.isInteger(count) || count < 1 || count > 100) fail('usage: npm run demo [-- --count 1..100]');
  // The same variables and defaults as npm start (a development cluster on this machine).
  const env = {
    configPort: Number(process.env.CONFIG_PORT || 3000),
    databaseUrl: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/webhooks',
    natsUrl: process.env.NATS_URL || 'nats://127.0.0.1:4222',
  };
  const base = `http://127.0.0.1:${env.configPort}`;
  const up = await fetch(`${base}/health`).then(
    (r) => r.ok,
    () => false,
  );
  if (!up) fail(`[demo] nothing ready at ${base}: start the cluster first, in another terminal: npm run demo:start`);

  // 1. An account, a token, the consumer's port and its certificate.
  const orm = await MikroORM.init(ormConfig(env.databaseUrl, { poolMax: 1 }));
  const em = orm.em.fork();
  const name = `demo-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}`;
  const { account_id: accountId } = await createAccount(em, name);
  const { token } = await createToken(em, accountId, 'demo', ['developer', 'approver', 'entity_manager']);
  await orm.close(true);
  say(`account ${name} (${accountId}); token for the dashboard at ${base}/ and the API: ${token}`);
  const pki = ensureDemoPki(DEV_DATA_DIR);
  const port = await freePort();
  const apiKey = randomBytes(18).toString('base64url');
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json().catch(() => undefined)) as any }));

  // 2. The webhook (its signing secret is the consumer's setting), then the consumer.
  const created = await api('POST', '/v2/webhooks', {
    name: 'demo consumer (examples/node-express)',
    url: `https://127.0.0.1:${port}/webhooks`,
    auth_type: 'API_KEY',
    api_key: { header: 'X-Api-Key', key: apiKey },
    event_types: ['identity.*'],
    rate_limit: 10,
  });
  if (created.status !== 201) throw new Error(`POST /v2/webhooks answered ${created.status}: ${JSON.stringify(created.body)}`);
  const hook = created.body as { id: string; signing_secret: string };
  say(`webhook ${hook.id} -> https://127.0.0.1:${port}/webhooks (API key, identity.*, signing secret whsec_...${hook.signing_secret.slice(-4)})`);

  const lines: ConsumerLine[] = [];
  const arrivedAt = new Map<string, number>();
  const consumer: ChildProcess = spawn(process.execPath, [join(REPO, 'examples', 'node-express', 'server.js')], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      TLS_CERT_FILE: pki.certFile,
      TLS_KEY_FILE: pki.keyFile,
      WEBHOOK_SECRET: hook.signing_secret,
      API_KEY: apiKey,
      PLATFORM_URL: base,
      PLATFORM_TOKEN: token,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  createInterface({ input: consumer.stdout! }).on('line', (l) => {
    try {
      const line = JSON.parse(l) as ConsumerLine;
      lines.push(line);
      if (line.msg === 'processed' && line.event_id) arrivedAt.set(line.event_id, Date.now());
      const detail = line.msg === 'processed' ? `${line.type} ${JSON.stringify(line.object)}` : (line.reason ?? line.error ?? line.url ?? line.type ?? '');
      process.stdout.write(`[consumer] ${line.msg} ${line.event_id ?? ''} ${detail}\n`);
    } catch {
      process.stdout.write(`[consumer] ${l}\n`);
    }
  });
  const stopConsumer = (): void => void (consumer.exitCode === null && consumer.kill('SIGTERM'));
  process.on('exit', stopConsumer);
  await until('the consumer to listen', 15_000, () => lines.some((l) => l.msg === 'listening'));

  // 3. Events, published the way internal services do, once the nodes know the webhook.
  const nc = await connectNats(env.natsUrl, 'demo');
  try {
    const kv = await nc.jetstream().views.kv(KV_WEBHOOKS);
    await until('the webhook to reach the delivery nodes', 30_000, async () => (await kv.get(hook.id))?.operation === 'PUT');
    const types = ['identity.approved', 'identity.denied', 'identity.documents_required'];
    const sent: { id: string; at: number }[] = [];
    for (let i = 0; i < count; i++) {
      const type = types[i % types.length];
      const id = randomUUID();
      await publishEvent(nc.jetstream(), {
        id,
        account_id: accountId,
        type,
        time: new Date().toISOString(),
        object_type: objectTypeOf(type)!,
        object: { identity_id: `identity-${i + 1}`, demo: true },
      });
      sent.push({ id, at: Date.now() });
      say(`published ${type} ${id}`);
    }
    try {
      await until('the events at the consumer', 30_000, () => sent.every((s) => arrivedAt.has(s.id)));
    } catch (err) {
      await explainFailure(api, hook.id);
      throw err;
    }
    for (const s of sent) say(`${s.id}: verified and fetched by the consumer ${arrivedAt.get(s.id)! - s.at} ms after publishing`);

    // 4. A redelivery: the consumer sees the same event id again and takes it once.
    const again = await api('POST', `/v2/events/${sent[0].id}/redeliver`, { webhook_id: hook.id });
    say(`redeliver ${sent[0].id}: HTTP ${again.status}`);
    await until('the redelivery', 30_000, () => lines.some((l) => l.msg === 'duplicate' && l.event_id === sent[0].id));
    // 5. A test send from the API (what the dashboard's Test button does).
    const test = await api('POST', `/v2/webhooks/${hook.id}/test`, { event_type: 'identity.approved' });
    await until('the test event', 30_000, () => lines.some((l) => l.msg === 'test-event' && l.event_id === test.body?.event_id));
    const attempts = await api('GET', `/v2/webhooks/${hook.id}/deliveries?limit=100`);
    const ok = (attempts.body?.deliveries ?? []).filter((d: { success: boolean }) => d.success).length;
    say(`done: ${count} events delivered, 1 redelivery deduplicated, 1 test event; ${ok} successful attempts in GET /v2/webhooks/${hook.id}/deliveries`);
    say(`see them in the dashboard: ${base}/ (sign in with the token above), Developer -> Webhooks / Events`);
  } finally {
    await nc.drain();
    stopConsumer();
  }
}

/** Says why nothing arrived, from the attempt log: most often the nodes were not started by demo:start. */
async function explainFailure(api: (m: string, p: string) => Promise<{ status: number; body: any }>, hookId: string): Promise<void> {
  const res = await api('GET', `/v2/webhooks/${hookId}/deliveries?limit=5`);
  const failed = (res.body?.deliveries ?? []).find((d: { success: boolean }) => !d.success) as { error?: string; status_code?: number } | undefined;
  if (!failed) {
    say('no failed attempt: are the delivery nodes running and ready (npm run demo:start, their /health)?');
    return;
  }
  say(`the last attempt failed: ${failed.error ?? `HTTP ${failed.status_code}`}`);
  if (/private|loopback|certificate|tls/i.test(failed.error ?? '')) {
    say('the delivery nodes must be allowed to reach 127.0.0.1 and trust the demo CA: stop the cluster and start it with npm run demo:start');
    say(`(that is npm start with DELIVERY_ALLOW_PRIVATE_NETWORKS=true DELIVERY_CA_FILE=${join(DEV_DATA_DIR, 'demo-pki', 'ca.pem')})`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`[demo] ${err.message}\n`);
    process.exit(1);
  },
);
