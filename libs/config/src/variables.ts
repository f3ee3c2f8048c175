/**
 * The catalogue of environment variables each app reads: one place for the README table, the
 * deployment manifests' check and the apps' validation to agree on.
 */
export type AppName = 'config-service' | 'approval-service' | 'delivery-node';

export interface EnvVariable {
  name: string;
  apps: readonly AppName[];
  /** Holds a credential: never logged, kept in a Secret in deployments. */
  secret: boolean;
  /** What applies when unset; undefined when the variable is required. */
  default: string | undefined;
  description: string;
}

const ALL: readonly AppName[] = ['config-service', 'approval-service', 'delivery-node'];

export const ENV_VARIABLES: readonly EnvVariable[] = [
  { name: 'DATABASE_URL', apps: ALL, secret: true, default: 'postgres://postgres@127.0.0.1:5432/webhooks', description: 'PostgreSQL connection URL' },
  { name: 'NATS_URL', apps: ALL, secret: false, default: 'nats://127.0.0.1:4222', description: 'NATS servers, comma-separated for a cluster' },
  { name: 'NATS_CLIENT_NAME', apps: ALL, secret: false, default: 'webhooks', description: 'connection name shown by NATS monitoring' },
  { name: 'NATS_REPLICAS', apps: ALL, secret: false, default: '1', description: 'replicas of streams and buckets (3 on a NATS cluster)' },
  { name: 'SECRETS_KEY', apps: ['config-service', 'delivery-node'], secret: true, default: undefined, description: 'base64 of 32 bytes; encrypts webhook secrets' },
  { name: 'LOG_LEVEL', apps: ALL, secret: false, default: 'log', description: 'fatal, error, warn, log, debug, verbose' },
  { name: 'CONFIG_PORT', apps: ['config-service'], secret: false, default: '3000', description: 'HTTP port of the config service' },
  { name: 'APPROVAL_PORT', apps: ['approval-service', 'config-service'], secret: false, default: '3001', description: 'HTTP port of the approval service' },
  { name: 'APPROVAL_SERVICE_URL', apps: ['config-service'], secret: false, default: 'http://127.0.0.1:$APPROVAL_PORT', description: 'origin the dashboard\'s /approval-api/v2/... requests are forwarded to' },
  { name: 'DASHBOARD_DIR', apps: ['config-service'], secret: false, default: 'dist/dashboard', description: 'the built dashboard served at /' },
  { name: 'DELIVERY_PARTITIONS', apps: ['config-service', 'delivery-node'], secret: false, default: 'the cluster\'s', description: 'partitions of the deliveries stream, fixed per cluster' },
  { name: 'NODE_ID', apps: ['delivery-node'], secret: false, default: 'generated', description: 'the delivery node\'s id' },
  { name: 'PORT', apps: ['delivery-node'], secret: false, default: '3100', description: 'the delivery node\'s /health and /metrics port' },
  { name: 'DELIVERY_OWNERSHIP', apps: ['delivery-node'], secret: false, default: 'leased', description: '`static`: deliver every partition (a node that runs alone)' },
  { name: 'DELIVERY_RECONCILE_AFTER_MS', apps: ['delivery-node'], secret: false, default: '120000', description: 'a delivery row unscheduled this long, with no task anywhere, is re-driven' },
  { name: 'DELIVERY_ALLOW_PRIVATE_NETWORKS', apps: ['delivery-node'], secret: false, default: 'false', description: 'let delivery reach loopback/private addresses (development and tests only)' },
  { name: 'DELIVERY_CA_FILE', apps: ['delivery-node'], secret: false, default: '', description: 'extra CA (PEM) trusted for consumer and token-endpoint TLS' },
  { name: 'RETENTION_DAYS', apps: ['config-service'], secret: false, default: '30', description: 'events, deliveries and attempts older than this many days are pruned' },
  { name: 'RETENTION_INTERVAL_MS', apps: ['config-service'], secret: false, default: '600000', description: 'how often the retention pruner runs' },
  { name: 'APPROVAL_APPLY_MAX_ATTEMPTS', apps: ['config-service'], secret: false, default: '10', description: 'deliveries of an approved change that cannot be applied before its webhook ends in ERROR' },
];

/** The variables one app reads. */
export function variablesOf(app: AppName): EnvVariable[] {
  return ENV_VARIABLES.filter((v) => v.apps.includes(app));
}
