import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { publishEvent } from '@app/messaging';
import { ApiClient, ApiResponse, eventually, freePort, testEvent, waitForWebhooksInKv } from '@app/testing';
import { useHarness } from './support/harness';

jest.setTimeout(300_000);

const tag = () => randomBytes(9).toString('hex');
/** Every secret of the run, each unique enough that a match cannot be a coincidence. */
const S = {
  secretsKey: randomBytes(32).toString('base64'),
  natsPassword: `natspw-${tag()}`,
  apiKey: `apikey-${tag()}`,
  proposedApiKey: `proposed-${tag()}`,
  clientSecret: `clientsecret-${tag()}`,
  accessToken: `accesstoken-${tag()}`,
  cookie: `cookie-${tag()}`,
  wrongBearer: `wrongbearer-${tag()}`,
};

interface App {
  name: string;
  url: string;
  proc: ChildProcess;
  out: () => string;
}

/**
 * The three apps as processes at LOG_LEVEL debug, against a NATS that wants a password, doing
 * everything that touches a secret: API-key and OAuth webhooks created and delivered, a pending
 * update with a new key, approvers' views, refused tokens, cookies and API-key headers sent to the
 * API. Afterwards no secret of the run is in any log line, any API response (but the signing secret
 * in the create answer, which is its one showing) or the NATS store's bytes (the webhooks bucket).
 */
describe('secrets stay out of logs, responses and the KV bucket', () => {
  const h = useHarness({
    natsConf: `authorization { user: "svc", password: "${S.natsPassword}" }\n`,
    env: { SECRETS_KEY: S.secretsKey, NATS_USER: 'svc', NATS_PASSWORD: S.natsPassword, DELIVERY_PARTITIONS: '4', DELIVERY_OWNERSHIP: 'static' },
    consumer: (r) =>
      r.path === '/token'
        ? { status: 200, body: JSON.stringify({ access_token: S.accessToken, token_type: 'Bearer', expires_in: 3600 }), headers: { 'content-type': 'application/json' } }
        : { status: 200, body: 'ok' },
    nats: { user: 'svc', pass: S.natsPassword },
  });
  const apps: App[] = [];
  const responses: string[] = [];
  const signingSecrets: string[] = [];
  const userTokens: string[] = [];

  async function start(name: string, main: string, portVar: string): Promise<App> {
    const port = await freePort();
    const proc = spawn(process.execPath, [join(process.cwd(), 'dist', 'apps', name, 'src', 'main.js')], {
      env: {
        ...process.env,
        ...h.platform.env,
        [portVar]: String(port),
        NATS_CLIENT_NAME: name,
        LOG_LEVEL: 'debug',
        LOG_PRETTY: 'false',
        NODE_ID: name === 'delivery-node' ? 'leak-node' : '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (out += d));
    const app = { name, url: `http://127.0.0.1:${port}`, proc, out: () => out };
    apps.push(app);
    h.onClose(() => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    });
    void main;
    return app;
  }

  const record = async <T>(p: Promise<ApiResponse<T>>): Promise<ApiResponse<T>> => {
    const res = await p;
    responses.push(`${res.status} ${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${res.text}`);
    return res;
  };

  beforeAll(async () => {
    await start('config-service', 'config', 'CONFIG_PORT');
    await start('approval-service', 'approval', 'APPROVAL_PORT');
    await start('delivery-node', 'node', 'PORT');
    for (const app of apps) {
      await eventually(
        async () =>
          app.proc.exitCode === null &&
          (await fetch(`${app.url}/health`).then(
            (r) => r.ok,
            () => false,
          )),
        {
          what: `${app.name} ready\n${app.out().slice(-2000)}`,
          timeoutMs: 120_000,
        },
      );
    }
  });

  it('runs everything that handles a secret', async () => {
    const [cfg, appr] = apps;
    const acct = await h.platform.account('leaks');
    const devToken = await acct.token('dev', ['developer']);
    const mgrToken = await acct.token('mgr', ['entity_manager', 'approver']);
    userTokens.push(devToken, mgrToken);
    const dev = new ApiClient(cfg.url).as(devToken);
    const mgr = new ApiClient(appr.url).as(mgrToken);

    const withKey = await record(
      dev.request(
        'POST',
        '/v2/webhooks',
        { name: 'key', url: `${h.consumer.url}/key`, auth_type: 'API_KEY', api_key: { header: 'X-Api-Key', key: S.apiKey }, event_types: ['identity.*'] },
        { headers: { 'x-request-id': 'leak-test-1' } },
      ),
    );
    expect(withKey.status).toBe(201);
    expect(withKey.headers.get('x-request-id')).toBe('leak-test-1');
    const withOauth = await record(
      dev.post('/v2/webhooks', {
        name: 'oauth',
        url: `${h.consumer.url}/oauth`,
        auth_type: 'OAUTH',
        oauth: { client_url: `${h.consumer.url}/token`, client_id: 'cid', client_secret: S.clientSecret },
        event_types: ['identity.*'],
      }),
    );
    expect(withOauth.status).toBe(201);
    signingSecrets.push(withKey.body.signing_secret, withOauth.body.signing_secret);
    await waitForWebhooksInKv(h.nc, [withKey.body.id, withOauth.body.id]);

    const id = randomUUID();
    await publishEvent(h.nc.jetstream(), testEvent(acct.accountId, id));
    await h.consumer.waitFor((reqs) => ['/key', '/oauth'].every((p) => reqs.some((r) => r.path === p && JSON.parse(r.body).id === id)), 60_000);
    expect(h.consumer.requests.find((r) => r.path === '/oauth')!.headers.authorization).toBe(`Bearer ${S.accessToken}`);

    // Approvals on: an update with a new key waits, sealed; approvers see it masked.
    expect((await record(mgr.put('/v2/approval-policies/webhooks', { enabled: true, required_approvals: 1 }))).status).toBe(200);
    expect((await record(dev.patch(`/v2/webhooks/${withKey.body.id}`, { api_key: { header: 'X-Api-Key', key: S.proposedApiKey } }))).status).toBe(202);
    await record(mgr.get('/v2/approvals'));
    for (const path of ['/v2/webhooks', `/v2/webhooks/${withKey.body.id}`, `/v2/webhooks/${withOauth.body.id}`]) await record(dev.get(path));
    // Credentials sent to the API where they do not belong, and a refused token.
    await record(dev.request('GET', '/v2/webhooks', undefined, { headers: { cookie: `session=${S.cookie}`, 'x-api-key': S.apiKey } }));
    await record(new ApiClient(cfg.url).as(S.wrongBearer).get('/v2/webhooks'));
    await record(new ApiClient(appr.url).as(S.wrongBearer).get('/v2/approvals'));
    await record(dev.post('/v2/webhooks', { name: 'bad', url: 'http://nope', auth_type: 'API_KEY', api_key: { header: 'X-Api-Key', key: S.apiKey }, event_types: ['identity.*'] }));
  });

  it('logs are JSON with request, account and webhook ids, and hold no secret', async () => {
    for (const app of apps) {
      app.proc.kill('SIGTERM');
      await eventually(() => app.proc.exitCode !== null || app.proc.signalCode !== null, { what: `${app.name} stopped`, timeoutMs: 60_000 });
    }
    const logs = apps.map((a) => a.out()).join('\n');
    mkdirSync('test-results', { recursive: true });
    writeFileSync(join('test-results', 'secrets-leak-logs.jsonl'), logs); // the run's log, for reading
    const lines = logs.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(20);
    const json = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(json.length / lines.length).toBeGreaterThan(0.9);
    expect(json.some((l) => l.request_id === 'leak-test-1' && l.account_id && l.res?.statusCode === 201)).toBe(true);
    expect(json.some((l) => l.webhook_id && l.request_id)).toBe(true);
    expect(json.some((l) => l.context === 'NestApplication')).toBe(true); // framework lines go through pino too
    for (const [name, value] of Object.entries({ ...S, ...Object.fromEntries(userTokens.map((t, i) => [`user token ${i}`, t])) })) {
      expect({ name, found: logs.includes(value) }).toEqual({ name, found: false });
    }
    for (const s of signingSecrets) expect(logs.includes(s)).toBe(false);
  });

  it('responses hold no secret but the signing secret shown once on create', () => {
    const [createKey, createOauth, ...rest] = responses;
    for (const value of [...Object.values(S), ...userTokens]) expect(responses.some((r) => r.includes(value))).toBe(false);
    expect(createKey).toContain(signingSecrets[0]);
    expect(createOauth).toContain(signingSecrets[1]);
    for (const s of signingSecrets) expect(rest.some((r) => r.includes(s))).toBe(false);
  });

  it('the NATS store (webhooks bucket included) holds no secret in its bytes', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(h.platform.nats.storeDir);
    expect(files.some((f) => f.includes('KV_webhooks'))).toBe(true);
    const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
    for (const value of [S.apiKey, S.proposedApiKey, S.clientSecret, S.accessToken, ...signingSecrets]) expect(bytes.includes(Buffer.from(value))).toBe(false);
    // The store is readable: the webhook's URL is there in plain text, its secrets are not.
    expect(bytes.includes(Buffer.from(`${h.consumer.url}/key`))).toBe(true);
  });
});
