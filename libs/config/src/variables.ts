/**
 * The catalogue of environment variables each app reads: one place for the README table, the
 * deployment manifests' check and the apps' validation to agree on.
 */
export type AppName = 'config-service' | 'approval-service' | 'delivery-node';

export interface EnvVariable {
  name: string;
  /** The apps that read it; empty for a variable only `npm start` reads. */
  apps: readonly AppName[];
  /** Holds a credential: never logged, kept in a Secret in deployments. */
  secret: boolean;
  /** What applies when unset; undefined when the variable is required. */
  default: string | undefined;
  description: string;
}

const ALL: readonly AppName[] = ['config-service', 'approval-service', 'delivery-node'];
const SEALING: readonly AppName[] = ['config-service', 'delivery-node'];

export const ENV_VARIABLES: readonly EnvVariable[] = [
  {
    name: 'DATABASE_URL',
    apps: ALL,
    secret: true,
    default: 'postgres://postgres@127.0.0.1:5432/webhooks',
    description: 'PostgreSQL connection URL; created if missing by `npm run migrate` / `npm start`',
  },
  { name: 'NATS_URL', apps: ALL, secret: false, default: 'nats://127.0.0.1:4222', description: 'NATS servers, comma-separated for a cluster (`tls://` for TLS)' },
  { name: 'NATS_CLIENT_NAME', apps: ALL, secret: false, default: 'webhooks', description: 'connection name shown by NATS monitoring (`npm start` names each process)' },
  { name: 'NATS_USER', apps: ALL, secret: false, default: '', description: 'NATS user (with `NATS_PASSWORD`)' },
  { name: 'NATS_PASSWORD', apps: ALL, secret: true, default: '', description: 'NATS password (with `NATS_USER`)' },
  { name: 'NATS_TOKEN', apps: ALL, secret: true, default: '', description: 'NATS token (instead of user and password)' },
  { name: 'NATS_CREDS_FILE', apps: ALL, secret: true, default: '', description: 'NATS `.creds` file (JWT and NKey seed), instead of the two above' },
  { name: 'NATS_TLS_CA_FILE', apps: ALL, secret: false, default: '', description: "CA (PEM) that signed the NATS servers' certificates; turns TLS on" },
  { name: 'NATS_TLS_CERT_FILE', apps: ALL, secret: false, default: '', description: 'client certificate (PEM) for servers that verify clients; with `NATS_TLS_KEY_FILE`' },
  { name: 'NATS_TLS_KEY_FILE', apps: ALL, secret: true, default: '', description: "the client certificate's private key (PEM)" },
  { name: 'NATS_REPLICAS', apps: ALL, secret: false, default: '1', description: 'replicas of streams and buckets (3 on a NATS cluster)' },
  {
    name: 'SECRETS_KEY',
    apps: SEALING,
    secret: true,
    default: undefined,
    description: 'base64 of 32 bytes; seals webhook secrets (AES-256-GCM). Required; `npm start` makes a development key in `.dev/secrets.key`',
  },
  {
    name: 'SECRETS_KEY_PREVIOUS',
    apps: SEALING,
    secret: true,
    default: '',
    description: 'earlier keys (base64, comma-separated), still used to open secrets sealed before a rotation',
  },
  { name: 'LOG_LEVEL', apps: ALL, secret: false, default: 'log', description: 'fatal, error, warn, log (= info), debug, verbose (= trace); tests: error' },
  {
    name: 'LOG_PRETTY',
    apps: ALL,
    secret: false,
    default: 'when stdout is a terminal',
    description: '`true`: coloured one-line logs instead of JSON; `false`: JSON even on a terminal',
  },
  { name: 'CONFIG_PORT', apps: ['config-service'], secret: false, default: '3000', description: 'HTTP port of the config service' },
  { name: 'APPROVAL_PORT', apps: ['approval-service', 'config-service'], secret: false, default: '3001', description: 'HTTP port of the approval service' },
  {
    name: 'APPROVAL_SERVICE_URL',
    apps: ['config-service'],
    secret: false,
    default: 'http://127.0.0.1:$APPROVAL_PORT',
    description: "origin of the approval service, to which the config service forwards the dashboard's `/approval-api/v2/...` requests",
  },
  {
    name: 'DASHBOARD_DIR',
    apps: ['config-service'],
    secret: false,
    default: 'dist/dashboard',
    description: 'the built dashboard the config service serves at `/` (must hold `index.html`)',
  },
  { name: 'DELIVERY_NODES', apps: [], secret: false, default: '2', description: 'delivery nodes started by `npm start` (ports 3101..)' },
  {
    name: 'DELIVERY_PARTITIONS',
    apps: ['config-service', 'delivery-node'],
    secret: false,
    default: "the cluster's (1024 for a new one; 16384 with node routing)",
    description:
      'partitions of the deliveries stream (1..16384; at most 8192 with partition routing), fixed per cluster and stored in NATS; a node with a different value refuses to start',
  },
  { name: 'NODE_ID', apps: ['delivery-node'], secret: false, default: 'generated', description: "the delivery node's id" },
  { name: 'PORT', apps: ['delivery-node'], secret: false, default: '3100', description: "the delivery node's /health and /metrics port" },
  { name: 'DELIVERY_OWNERSHIP', apps: ['delivery-node'], secret: false, default: 'leased', description: '`static` makes a node deliver every partition (a node that runs alone)' },
  {
    name: 'DELIVERY_RECONCILE_AFTER_MS',
    apps: ['delivery-node'],
    secret: false,
    default: '120000',
    description: 'a delivery row unscheduled this long, with no task anywhere, is re-driven (see Isolation)',
  },
  {
    name: 'DELIVERY_FANOUT_CLAIMS',
    apps: ['delivery-node'],
    secret: false,
    default: 'true',
    description:
      "fan-out hands the deliveries of the partitions its node consumes straight to the node's lanes, claimed (see How delivery works); `false` sends every delivery through the deliveries stream, as a node of a large cluster does for most (the bench measures both)",
  },
  {
    name: 'DELIVERY_TASK_ROUTING',
    apps: ['delivery-node'],
    secret: false,
    default: "the cluster's (`partition` for a new one)",
    description:
      '`node`: delivery tasks go to a mailbox per delivery node, so the partition count costs NATS nothing (not the default yet, see The delivery cluster); `partition`: a subject and durable consumer per partition; recorded by the first node of a cluster, later nodes must agree',
  },
  {
    name: 'FANOUT_AUDIT_INTERVAL_MS',
    apps: ['delivery-node'],
    secret: false,
    default: '10000',
    description: 'how often the fan-out audit re-plans events taken off the events stream without being recorded (see Never lost)',
  },
  {
    name: 'DELIVERY_ALLOW_PRIVATE_NETWORKS',
    apps: ['delivery-node'],
    secret: false,
    default: 'false',
    description: 'let delivery reach loopback/private addresses (development and tests only)',
  },
  { name: 'DELIVERY_CA_FILE', apps: ['delivery-node'], secret: false, default: '', description: 'extra CA (PEM) trusted for consumer and token-endpoint TLS' },
  { name: 'RETENTION_DAYS', apps: ['config-service'], secret: false, default: '30', description: 'events, deliveries and attempts older than this many days are pruned' },
  { name: 'RETENTION_INTERVAL_MS', apps: ['config-service'], secret: false, default: '600000', description: 'how often the retention pruner runs' },
  {
    name: 'APPROVAL_APPLY_MAX_ATTEMPTS',
    apps: ['config-service'],
    secret: false,
    default: '10',
    description: 'deliveries of an approved change that cannot be applied before its webhook ends in ERROR',
  },
];

/**
 * Prefixes the platform owns: a variable with one of them that the catalogue does not know is a
 * typo (`DELIVERY_PARTITONS`) and stops the app, instead of silently leaving a default in force.
 */
export const OWNED_PREFIXES: readonly string[] = ['DATABASE_', 'NATS_', 'DELIVERY_', 'SECRETS_', 'APPROVAL_', 'CONFIG_', 'LOG_', 'DASHBOARD_', 'RETENTION_'];

/** Names with an owned prefix that belong to other tools (the test harness's nats-server binary). */
export const FOREIGN_VARIABLES: readonly string[] = ['NATS_SERVER_BIN'];

/** The variables one app reads. */
export function variablesOf(app: AppName): EnvVariable[] {
  return ENV_VARIABLES.filter((v) => v.apps.includes(app));
}
