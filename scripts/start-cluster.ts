import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { EnvError, readConfig } from '../libs/config/src';
import { migrate } from '../libs/persistence/src';
import { useDevSecretsKey } from './dev-secrets-key';
import { banner, waitReady } from './dev/banner';
import { ensureDevNats, StartError } from './dev/dev-nats';
import { requirePostgres } from './dev/dev-postgres';

/**
 * `npm start`: applies migrations, then runs the config service, the approval service and
 * DELIVERY_NODES delivery nodes as child processes in the foreground. SIGINT/SIGTERM stop them all.
 * With no PostgreSQL it stops with one line saying how to get one; with nothing at NATS_URL (on this
 * machine) it starts nats-server with JetStream in DEV_DATA_DIR (default .dev/, git-ignored).
 */
const DIST = join(__dirname, '..');
const DEV_DATA_DIR = process.env.DEV_DATA_DIR || join(DIST, '..', '.dev');

function run(name: string, entry: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--enable-source-maps', join(DIST, entry)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((l) => `[${name}] ${l}\n`)
      .join('');
  child.stdout.on('data', (d) => process.stdout.write(prefix(d)));
  child.stderr.on('data', (d) => process.stderr.write(prefix(d)));
  return child;
}

async function main(): Promise<void> {
  const generated = useDevSecretsKey({ create: true });
  if (generated) console.log(`[start] ${generated}`);
  const env = readConfig();
  await requirePostgres(env.databaseUrl);
  const applied = await migrate(env.databaseUrl).catch((err) => {
    throw new StartError(`migrations failed: ${err.message}`);
  });
  if (applied.length) console.log(`[start] applied migrations: ${applied.join(', ')}`);
  const devNats = await ensureDevNats(env.natsUrl, DEV_DATA_DIR);
  if (devNats)
    console.log(`[start] nothing answered at ${env.natsUrl}: started nats-server with JetStream (data in ${devNats.storeDir}, log ${devNats.logFile}); it stops with the cluster`);
  const children = new Map<string, ChildProcess>();
  children.set('config-service', run('config-service', 'apps/config-service/src/main.js', { NATS_CLIENT_NAME: 'config-service' }));
  children.set('approval-service', run('approval-service', 'apps/approval-service/src/main.js', { NATS_CLIENT_NAME: 'approval-service' }));
  for (let i = 1; i <= env.deliveryNodes; i++) {
    const name = `delivery-node-${i}`;
    children.set(name, run(name, 'apps/delivery-node/src/main.js', { NODE_ID: process.env[`NODE_ID_${i}`] ?? `node-${i}`, PORT: String(3100 + i), NATS_CLIENT_NAME: name }));
  }
  const nodePorts = Array.from({ length: env.deliveryNodes }, (_, i) => 3101 + i);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`[start] ${signal}: stopping`);
    for (const c of children.values()) c.kill('SIGTERM');
    setTimeout(() => {
      for (const c of children.values()) if (c.exitCode === null) c.kill('SIGKILL');
    }, 15_000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  void waitReady(
    [
      { name: 'config service', url: `http://127.0.0.1:${env.configPort}/health` },
      { name: 'approval service', url: `http://127.0.0.1:${env.approvalPort}/health` },
      ...nodePorts.map((p, i) => ({ name: `delivery-node-${i + 1}`, url: `http://127.0.0.1:${p}/health` })),
    ],
    90_000,
  ).then((notReady) => {
    if (!stopping)
      console.log(banner({ configPort: env.configPort, approvalPort: env.approvalPort, nodePorts, natsUrl: env.natsUrl, natsStartedHere: devNats?.storeDir, notReady }));
  });
  await Promise.all(
    [...children].map(
      ([name, c]) =>
        new Promise<void>((resolve) =>
          c.on('exit', (code, signal) => {
            if (!stopping) {
              console.error(`[start] ${name} exited (${code ?? signal}); stopping the cluster`);
              process.exitCode = 1;
              stop('SIGTERM');
            }
            resolve();
          }),
        ),
    ),
  );
  await devNats?.stop();
}

main().catch((err) => {
  // Set-up problems the developer can fix get one line, not a stack.
  console.error(err instanceof StartError || err instanceof EnvError ? `[start] ${err.message}` : `[start] ${err.stack ?? err}`);
  process.exit(1);
});
