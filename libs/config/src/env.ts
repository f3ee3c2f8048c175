import { existsSync } from 'node:fs';
import { ENV_VARIABLES, FOREIGN_VARIABLES, OWNED_PREFIXES, type AppName, variablesOf } from './variables';

export type LogLevelName = 'fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose';
export const LOG_LEVEL_NAMES: readonly LogLevelName[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** How an app authenticates to NATS and whether it speaks TLS; every field optional. */
export interface NatsAccess {
  user?: string;
  password?: string;
  token?: string;
  credsFile?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

/**
 * The validated settings of one process, read once at start-up so a bad value stops the process
 * with one clear line instead of failing later. Apps receive it by injection (`AppConfig`).
 */
export interface PlatformEnv {
  databaseUrl: string;
  natsUrl: string;
  natsClientName: string;
  nats: NatsAccess;
  /** The key new secrets are sealed with; undefined only in a process that seals nothing. */
  secretsKey: Buffer | undefined;
  /** Earlier keys, still used to open secrets sealed before a rotation. */
  previousSecretsKeys: Buffer[];
  configPort: number;
  approvalPort: number;
  /** Where the config service forwards the dashboard's `/approval-api/*` requests. */
  approvalServiceUrl: string;
  /** The built dashboard; undefined: `dist/dashboard` of the repository. */
  dashboardDir: string | undefined;
  deliveryNodes: number;
  nodeId: string | undefined;
  port: number | undefined;
  ownership: 'leased' | 'static';
  allowPrivateNetworks: boolean;
  caFile: string | undefined;
  /** Unset: use the cluster's stored partition count (16384 for a new cluster, 1024 with partition routing). */
  partitions: number | undefined;
  streamReplicas: number;
  logLevel: LogLevelName;
  /** undefined: pretty when stdout is a terminal. */
  logPretty: boolean | undefined;
  /** A delivery row unscheduled this long, that no task in NATS and no node holds, is re-driven. */
  reconcileAfterMs: number;
  /** Fan-out hands the deliveries of partitions its node consumes straight to its lanes (claimed); false: every delivery through the stream. */
  fanoutClaims: boolean;
  /**
   * Where fan-out sends delivery tasks for the cluster's first node to record (then every node must
   * agree): `partition`, a subject and a durable consumer per partition; `node`, a mailbox subject and
   * consumer per delivery node, so the partition count costs NATS nothing. Undefined: the cluster's
   * (`node` for a new one).
   */
  taskRouting: 'partition' | 'node' | undefined;
  /** How often the fan-out audit looks for events taken off the events stream without being recorded. */
  fanoutAuditIntervalMs: number;
  retentionDays: number;
  retentionIntervalMs: number;
  approvalApplyMaxAttempts: number;
}

/**
 * The most partitions a cluster may have (a new cluster's default with node routing, where a
 * partition is a key written when it changes hands); see "Partition count" in the README.
 */
export const MAX_PARTITIONS = 16384;

/** A refused environment: the message is one line naming the variable, never its value when secret. */
export class EnvError extends Error {}

type Env = NodeJS.ProcessEnv;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) throw new EnvError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

function optionalBool(env: Env, name: string): boolean | undefined {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '') return undefined;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new EnvError(`${name} must be true or false, got "${env[name]}"`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!allowed.includes(raw as T)) throw new EnvError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

/** A path that must name an existing file (certificates, CA bundles, creds). */
function file(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  if (!existsSync(raw)) throw new EnvError(`${name} names a file that does not exist: ${raw}`);
  return raw;
}

/** Base64 of exactly 32 bytes; the message never quotes the value. */
export function parseKey(name: string, raw: string): Buffer {
  const text = raw.trim();
  const key = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text) || key.length !== 32) throw new EnvError(`${name} must be base64 of exactly 32 bytes (e.g. openssl rand -base64 32)`);
  return key;
}

/** Refuses variables with one of the platform's prefixes that the catalogue does not know. */
export function assertNoUnknownVariables(env: Env): void {
  const known = new Set([...ENV_VARIABLES.map((v) => v.name), ...FOREIGN_VARIABLES]);
  for (const name of Object.keys(env).sort()) {
    if (known.has(name) || !OWNED_PREFIXES.some((p) => name.startsWith(p))) continue;
    const close = [...known].find((k) => editDistance(k, name) <= 2);
    throw new EnvError(`${name} is not a variable this platform reads${close ? ` (did you mean ${close}?)` : ''}; see the Environment table in README.md`);
  }
}

/**
 * Every catalogue variable parsed, without the per-app rules (for scripts). Apps use
 * `loadAppConfig`, which also refuses unknown variables and requires what that app needs.
 */
export function readConfig(env: Env = process.env): PlatformEnv {
  const secretsKey = env.SECRETS_KEY ? parseKey('SECRETS_KEY', env.SECRETS_KEY) : undefined;
  const previousSecretsKeys = (env.SECRETS_KEY_PREVIOUS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((k) => parseKey('SECRETS_KEY_PREVIOUS', k));
  const databaseUrl = env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/webhooks';
  if (!/^postgres(ql)?:\/\/[^\s]+$/.test(databaseUrl)) throw new EnvError('DATABASE_URL must be a postgres:// URL');
  const natsUrl = env.NATS_URL || 'nats://127.0.0.1:4222';
  for (const server of natsUrl.split(',')) {
    if (!/^((nats|tls|ws|wss):\/\/)?[^\s/?#,]+(:\d+)?$/.test(server.trim()))
      throw new EnvError(`NATS_URL must be comma-separated nats:// or tls:// addresses, got "${server.trim()}"`);
  }
  const approvalPort = int(env, 'APPROVAL_PORT', 3001, 0, 65535);
  const approvalServiceUrl = (env.APPROVAL_SERVICE_URL || `http://127.0.0.1:${approvalPort}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/?#\s]+$/.test(approvalServiceUrl)) throw new EnvError('APPROVAL_SERVICE_URL must be an http(s):// origin such as http://127.0.0.1:3001');
  const natsClientName = env.NATS_CLIENT_NAME || 'webhooks';
  if (!/^[\x21-\x7e]{1,128}$/.test(natsClientName)) throw new EnvError(`NATS_CLIENT_NAME must be 1 to 128 printable characters without spaces, got "${natsClientName}"`);
  const nodeId = env.NODE_ID || undefined;
  if (nodeId !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(nodeId)) throw new EnvError(`NODE_ID must be 1 to 64 letters, digits, '.', '_' or '-', got "${nodeId}"`);
  const dashboardDir = env.DASHBOARD_DIR || undefined;
  if (dashboardDir !== undefined && !existsSync(`${dashboardDir}/index.html`))
    throw new EnvError(`DASHBOARD_DIR must be a built dashboard (a folder with index.html): ${dashboardDir}`);
  return {
    databaseUrl,
    natsUrl,
    natsClientName,
    nats: natsAccess(env),
    secretsKey,
    previousSecretsKeys,
    configPort: int(env, 'CONFIG_PORT', 3000, 0, 65535),
    approvalPort,
    approvalServiceUrl,
    dashboardDir,
    deliveryNodes: int(env, 'DELIVERY_NODES', 2, 0, 64),
    nodeId,
    port: env.PORT ? int(env, 'PORT', 0, 0, 65535) : undefined,
    ownership: oneOf(env, 'DELIVERY_OWNERSHIP', ['leased', 'static'] as const, 'leased'),
    allowPrivateNetworks: optionalBool(env, 'DELIVERY_ALLOW_PRIVATE_NETWORKS') ?? false,
    caFile: file(env, 'DELIVERY_CA_FILE'),
    partitions: env.DELIVERY_PARTITIONS ? int(env, 'DELIVERY_PARTITIONS', 64, 1, MAX_PARTITIONS) : undefined,
    streamReplicas: int(env, 'NATS_REPLICAS', 1, 1, 5),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVEL_NAMES, 'log'),
    logPretty: optionalBool(env, 'LOG_PRETTY'),
    reconcileAfterMs: int(env, 'DELIVERY_RECONCILE_AFTER_MS', 120_000, 1000, 24 * 3600 * 1000),
    fanoutClaims: optionalBool(env, 'DELIVERY_FANOUT_CLAIMS') ?? true,
    taskRouting: env.DELIVERY_TASK_ROUTING ? oneOf(env, 'DELIVERY_TASK_ROUTING', ['partition', 'node'] as const, 'partition') : undefined,
    fanoutAuditIntervalMs: int(env, 'FANOUT_AUDIT_INTERVAL_MS', 10_000, 200, 600_000),
    retentionDays: int(env, 'RETENTION_DAYS', 30, 1, 3650),
    retentionIntervalMs: int(env, 'RETENTION_INTERVAL_MS', 600_000, 1000, 24 * 3600 * 1000),
    approvalApplyMaxAttempts: int(env, 'APPROVAL_APPLY_MAX_ATTEMPTS', 10, 1, 1000),
  };
}

function natsAccess(env: Env): NatsAccess {
  const user = env.NATS_USER || undefined;
  const password = env.NATS_PASSWORD || undefined;
  const token = env.NATS_TOKEN || undefined;
  const credsFile = file(env, 'NATS_CREDS_FILE');
  if (!!user !== !!password) throw new EnvError('NATS_USER and NATS_PASSWORD must be set together');
  const ways = [user && 'NATS_USER/NATS_PASSWORD', token && 'NATS_TOKEN', credsFile && 'NATS_CREDS_FILE'].filter(Boolean);
  if (ways.length > 1) throw new EnvError(`set only one NATS authentication, got ${ways.join(' and ')}`);
  const caFile = file(env, 'NATS_TLS_CA_FILE');
  const certFile = file(env, 'NATS_TLS_CERT_FILE');
  const keyFile = file(env, 'NATS_TLS_KEY_FILE');
  if (!!certFile !== !!keyFile) throw new EnvError('NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE must be set together');
  const tls = caFile || certFile ? { caFile, certFile, keyFile } : undefined;
  return { user, password, token, credsFile, tls };
}

/**
 * One app's configuration: unknown variables with the platform's prefixes refused, every variable
 * the app reads validated, and what the app needs required (SECRETS_KEY for the apps that seal).
 */
export function loadAppConfig(app: AppName, env: Env = process.env): PlatformEnv {
  assertNoUnknownVariables(env);
  const config = readConfig(env);
  const reads = new Set(variablesOf(app).map((v) => v.name));
  if (reads.has('SECRETS_KEY') && !config.secretsKey) {
    throw new EnvError('SECRETS_KEY is required (base64 of 32 bytes; `npm start` makes a development key, production sets its own: openssl rand -base64 32)');
  }
  return config;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}
