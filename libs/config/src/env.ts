/**
 * Environment settings shared by every app, read and validated once at start-up so a bad value
 * stops the process with a clear message instead of failing later.
 */
export interface PlatformEnv {
  databaseUrl: string;
  natsUrl: string;
  secretsKey: Buffer;
  configPort: number;
  approvalPort: number;
  /** Where the config service forwards the dashboard's `/approval-api/*` requests. */
  approvalServiceUrl: string;
  deliveryNodes: number;
  nodeId: string | undefined;
  port: number | undefined;
  allowPrivateNetworks: boolean;
  caFile: string | undefined;
  /** Unset: use the cluster's stored partition count (64 for a new cluster). */
  partitions: number | undefined;
  streamReplicas: number;
  logLevel: string;
  /** A delivery row unscheduled this long, that no task in NATS and no node holds, is re-driven. */
  reconcileAfterMs: number;
  retentionDays: number;
  retentionIntervalMs: number;
  approvalApplyMaxAttempts: number;
}

export class EnvError extends Error {}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new EnvError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

function bool(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = (env[name] ?? '').toLowerCase();
  if (raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new EnvError(`${name} must be true or false, got "${env[name]}"`);
}

/** A fixed development key: used only when SECRETS_KEY is unset outside production. */
const DEV_SECRETS_KEY = Buffer.alloc(32, 7).toString('base64');

export function loadEnv(env: NodeJS.ProcessEnv = process.env): PlatformEnv {
  const keyB64 = env.SECRETS_KEY ?? (env.NODE_ENV === 'production' ? undefined : DEV_SECRETS_KEY);
  if (!keyB64) throw new EnvError('SECRETS_KEY is required (base64 of 32 bytes)');
  const secretsKey = Buffer.from(keyB64, 'base64');
  if (secretsKey.length !== 32) throw new EnvError('SECRETS_KEY must be base64 of exactly 32 bytes');
  const databaseUrl = env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/webhooks';
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) throw new EnvError('DATABASE_URL must be a postgres:// URL');
  const approvalPort = int(env, 'APPROVAL_PORT', 3001, 0, 65535);
  const approvalServiceUrl = (env.APPROVAL_SERVICE_URL || `http://127.0.0.1:${approvalPort}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/?#]+$/.test(approvalServiceUrl)) throw new EnvError('APPROVAL_SERVICE_URL must be an http(s):// origin such as http://127.0.0.1:3001');
  return {
    databaseUrl,
    natsUrl: env.NATS_URL || 'nats://127.0.0.1:4222',
    secretsKey,
    configPort: int(env, 'CONFIG_PORT', 3000, 0, 65535),
    approvalPort,
    approvalServiceUrl,
    deliveryNodes: int(env, 'DELIVERY_NODES', 2, 0, 64),
    nodeId: env.NODE_ID || undefined,
    port: env.PORT ? int(env, 'PORT', 0, 0, 65535) : undefined,
    allowPrivateNetworks: bool(env, 'DELIVERY_ALLOW_PRIVATE_NETWORKS'),
    caFile: env.DELIVERY_CA_FILE || undefined,
    partitions: env.DELIVERY_PARTITIONS ? int(env, 'DELIVERY_PARTITIONS', 64, 1, 1024) : undefined,
    streamReplicas: int(env, 'NATS_REPLICAS', 1, 1, 5),
    logLevel: env.LOG_LEVEL || 'log',
    reconcileAfterMs: int(env, 'DELIVERY_RECONCILE_AFTER_MS', 120_000, 1000, 24 * 3600 * 1000),
    retentionDays: int(env, 'RETENTION_DAYS', 30, 1, 3650),
    retentionIntervalMs: int(env, 'RETENTION_INTERVAL_MS', 600_000, 1000, 24 * 3600 * 1000),
    approvalApplyMaxAttempts: int(env, 'APPROVAL_APPLY_MAX_ATTEMPTS', 10, 1, 1000),
  };
}
