import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { readConfig } from '../libs/config/src';
import { migrate } from '../libs/persistence/src';
import { useDevSecretsKey } from './dev-secrets-key';

/**
 * `npm start`: applies migrations, then runs the config service, the approval service and
 * DELIVERY_NODES delivery nodes as child processes in the foreground. SIGINT/SIGTERM stop them all.
 */
const DIST = join(__dirname, '..');

function run(name: string, entry: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--enable-source-maps', join(DIST, entry)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((l) => `[${name}] ${l}\n`)
      .join('');
  child.stdout!.on('data', (d) => process.stdout.write(prefix(d)));
  child.stderr!.on('data', (d) => process.stderr.write(prefix(d)));
  return child;
}

async function main(): Promise<void> {
  const generated = useDevSecretsKey({ create: true });
  if (generated) console.log(`[start] ${generated}`);
  const env = readConfig();
  const applied = await migrate(env.databaseUrl);
  if (applied.length) console.log(`[start] applied migrations: ${applied.join(', ')}`);
  const children = new Map<string, ChildProcess>();
  children.set('config-service', run('config-service', 'apps/config-service/src/main.js', { NATS_CLIENT_NAME: 'config-service' }));
  children.set('approval-service', run('approval-service', 'apps/approval-service/src/main.js', { NATS_CLIENT_NAME: 'approval-service' }));
  for (let i = 1; i <= env.deliveryNodes; i++) {
    const name = `delivery-node-${i}`;
    children.set(name, run(name, 'apps/delivery-node/src/main.js', { NODE_ID: process.env[`NODE_ID_${i}`] ?? `node-${i}`, PORT: String(3100 + i), NATS_CLIENT_NAME: name }));
  }
  console.log(`[start] config service http://127.0.0.1:${env.configPort}, approval service http://127.0.0.1:${env.approvalPort}, ${env.deliveryNodes} delivery node(s) on ports 3101..${3100 + env.deliveryNodes}`);

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
}

main().catch((err) => {
  console.error(`[start] ${err.stack ?? err}`);
  process.exit(1);
});
