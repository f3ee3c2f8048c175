import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvError, loadAppConfig, readConfig } from './env';
import { pinoHttpOptions } from './logging.module';
import { requestIds } from './request-log-ids.interceptor';
import { ENV_VARIABLES, OWNED_PREFIXES, variablesOf } from './variables';

const KEY = Buffer.alloc(32, 5).toString('base64');
const OTHER = Buffer.alloc(32, 6).toString('base64');
const node = (env: Record<string, string>) => loadAppConfig('delivery-node', { SECRETS_KEY: KEY, ...env });
const refused = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EnvError);
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
  throw new Error('expected the environment to be refused');
};

describe('configuration', () => {
  it('applies the documented defaults', () => {
    const c = node({});
    expect(c).toMatchObject({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/webhooks',
      natsUrl: 'nats://127.0.0.1:4222',
      natsClientName: 'webhooks',
      configPort: 3000,
      approvalPort: 3001,
      approvalServiceUrl: 'http://127.0.0.1:3001',
      ownership: 'leased',
      allowPrivateNetworks: false,
      partitions: undefined,
      streamReplicas: 1,
      logLevel: 'log',
      logPretty: undefined,
      reconcileAfterMs: 120_000,
      fanoutClaims: true,
      taskRouting: undefined,
      fanoutAuditIntervalMs: 10_000,
      previousSecretsKeys: [],
      nats: { user: undefined, token: undefined, credsFile: undefined, tls: undefined },
    });
    expect(c.secretsKey).toEqual(Buffer.alloc(32, 5));
  });

  it('parses every kind of value', () => {
    const c = node({
      DELIVERY_PARTITIONS: '16384',
      DELIVERY_OWNERSHIP: 'static',
      DELIVERY_ALLOW_PRIVATE_NETWORKS: 'true',
      DELIVERY_FANOUT_CLAIMS: 'false',
      DELIVERY_TASK_ROUTING: 'node',
      NATS_REPLICAS: '3',
      LOG_LEVEL: 'debug',
      LOG_PRETTY: 'false',
      APPROVAL_PORT: '4001',
      NODE_ID: 'node-7',
      PORT: '0',
      SECRETS_KEY_PREVIOUS: `${OTHER}, ${KEY}`,
      NATS_URL: 'tls://a:4222,nats://b:4222',
      NATS_USER: 'svc',
      NATS_PASSWORD: 'pw',
    });
    expect(c).toMatchObject({
      partitions: 16384,
      ownership: 'static',
      allowPrivateNetworks: true,
      fanoutClaims: false,
      taskRouting: 'node',
      streamReplicas: 3,
      logLevel: 'debug',
      logPretty: false,
      approvalServiceUrl: 'http://127.0.0.1:4001',
      nodeId: 'node-7',
      port: 0,
    });
    expect(c.previousSecretsKeys).toEqual([Buffer.alloc(32, 6), Buffer.alloc(32, 5)]);
    expect(c.nats).toMatchObject({ user: 'svc', password: 'pw' });
  });

  it('refuses a misspelt variable with a platform prefix, naming it and the likely one', () => {
    expect(refused(() => node({ DELIVERY_PARTITONS: '8' }))).toMatch(/^DELIVERY_PARTITONS is not a variable .*did you mean DELIVERY_PARTITIONS\?/);
    for (const prefix of OWNED_PREFIXES) expect(refused(() => node({ [`${prefix}NOPE`]: '1' }))).toContain(`${prefix}NOPE`);
    // Other names are not the platform's business.
    expect(() => node({ HOME: '/root', NODE_ENV: 'production', NATS_SERVER_BIN: '/usr/bin/nats-server' })).not.toThrow();
  });

  it.each([
    ['DELIVERY_PARTITIONS', '0'],
    ['DELIVERY_PARTITIONS', '16385'],
    ['DELIVERY_PARTITIONS', '1.5'],
    ['NATS_REPLICAS', 'three'],
    ['CONFIG_PORT', '70000'],
    ['PORT', '-1'],
    ['DELIVERY_RECONCILE_AFTER_MS', '10'],
    ['DELIVERY_OWNERSHIP', 'shared'],
    ['DELIVERY_ALLOW_PRIVATE_NETWORKS', 'yes'],
    ['DELIVERY_FANOUT_CLAIMS', 'no'],
    ['DELIVERY_TASK_ROUTING', 'webhook'],
    ['LOG_LEVEL', 'info'],
    ['LOG_PRETTY', 'maybe'],
    ['DATABASE_URL', 'mysql://x'],
    ['NATS_URL', 'http://x:4222'],
    ['NATS_CLIENT_NAME', 'two words'],
    ['NODE_ID', 'a/b'],
    ['APPROVAL_SERVICE_URL', 'http://x/path'],
    ['DASHBOARD_DIR', '/nonexistent/dashboard'],
    ['DELIVERY_CA_FILE', '/nonexistent/ca.pem'],
    ['NATS_TLS_CA_FILE', '/nonexistent/ca.pem'],
    ['NATS_CREDS_FILE', '/nonexistent/x.creds'],
    ['SECRETS_KEY_PREVIOUS', 'short'],
  ])('refuses %s=%s with a line naming the variable', (name, value) => {
    expect(refused(() => node({ [name]: value }))).toContain(name);
  });

  it('requires SECRETS_KEY where secrets are sealed, never quoting a bad key', () => {
    expect(refused(() => loadAppConfig('config-service', {}))).toMatch(/^SECRETS_KEY is required/);
    expect(refused(() => loadAppConfig('delivery-node', {}))).toMatch(/^SECRETS_KEY is required/);
    expect(() => loadAppConfig('approval-service', {})).not.toThrow();
    const bad = 'c2VjcmV0LWJ1dC10b28tc2hvcnQ=';
    expect(refused(() => loadAppConfig('config-service', { SECRETS_KEY: bad }))).not.toContain(bad);
  });

  it('refuses half or double NATS credentials and half a client certificate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-spec-'));
    const file = join(dir, 'x.pem');
    writeFileSync(file, 'x');
    expect(refused(() => node({ NATS_USER: 'u' }))).toMatch(/NATS_USER and NATS_PASSWORD/);
    expect(refused(() => node({ NATS_USER: 'u', NATS_PASSWORD: 'p', NATS_TOKEN: 't' }))).toMatch(/only one NATS authentication/);
    expect(refused(() => node({ NATS_TLS_CERT_FILE: file }))).toMatch(/NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE/);
    expect(node({ NATS_TLS_CA_FILE: file, NATS_TLS_CERT_FILE: file, NATS_TLS_KEY_FILE: file }).nats.tls).toEqual({ caFile: file, certFile: file, keyFile: file });
  });

  it('lets scripts read the catalogue without the per-app rules', () => {
    expect(readConfig({}).secretsKey).toBeUndefined();
    expect(readConfig({ DELIVERY_NODES: '3' }).deliveryNodes).toBe(3);
  });

  it('catalogues every variable once, with a description, secrets flagged', () => {
    const names = ENV_VARIABLES.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    for (const v of ENV_VARIABLES) expect(v.description.length).toBeGreaterThan(5);
    const secret = ENV_VARIABLES.filter((v) => v.secret).map((v) => v.name);
    expect(secret).toEqual(expect.arrayContaining(['SECRETS_KEY', 'SECRETS_KEY_PREVIOUS', 'NATS_PASSWORD', 'NATS_TOKEN', 'NATS_CREDS_FILE', 'NATS_TLS_KEY_FILE', 'DATABASE_URL']));
    expect(variablesOf('approval-service').map((v) => v.name)).not.toContain('SECRETS_KEY');
  });
});

describe('logging options', () => {
  it('maps the Nest level names to pino levels and is JSON unless asked or on a terminal', () => {
    expect(pinoHttpOptions({ logLevel: 'log', logPretty: undefined }, false)).toMatchObject({ level: 'info', transport: undefined });
    expect(pinoHttpOptions({ logLevel: 'verbose', logPretty: undefined }, false).level).toBe('trace');
    expect(pinoHttpOptions({ logLevel: 'error', logPretty: undefined }, true).transport).toMatchObject({ target: 'pino-pretty' });
    expect(pinoHttpOptions({ logLevel: 'error', logPretty: false }, true).transport).toBeUndefined();
    expect(pinoHttpOptions({ logLevel: 'error', logPretty: true }, false).transport).toMatchObject({ target: 'pino-pretty' });
  });

  it('takes account, webhook and event ids from the request', () => {
    const id = '0b5e7c4c-8a59-4d62-9d0e-3f7a3a3f0a11';
    expect(requestIds({ url: `/v2/webhooks/${id}`, headers: {}, principal: { accountId: 'acc' } } as never)).toEqual({ account_id: 'acc', webhook_id: id });
    expect(requestIds({ url: `/v2/events/${id}/deliveries`, headers: {} } as never)).toEqual({ event_id: id });
  });
});
