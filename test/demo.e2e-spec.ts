// Not on the e2e harness (test/support/harness.ts): it tests `npm run demo` on `npm start`, which must find nothing at NATS_URL and start its own nats-server and services on fixed ports.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, eventually, exitAfterOutput, freePort, NodeProcess, spawnDeliveryNode, TEST_SECRETS_KEY, TestDatabase } from '@app/testing';
import { ensureDemoPki } from '../scripts/dev/demo-pki';

jest.setTimeout(240_000);

/**
 * `npm run demo` on top of `npm start` as `npm run demo:start` runs it: the built scripts, spawned.
 * The cluster runs no node of its own here (its ports are fixed); one delivery node on a free port
 * gets what demo:start gives its nodes (the demo CA and private networks).
 */
function spawnScript(script: string, env: Record<string, string>): { proc: ChildProcess; out: () => string; exit: Promise<number | null> } {
  const proc = spawn(process.execPath, [join(process.cwd(), 'dist', 'scripts', script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  return { proc, out: () => out, exit: exitAfterOutput(proc) };
}

describe('npm run demo', () => {
  let db: TestDatabase;
  let dataDir: string;
  let cluster: ReturnType<typeof spawnScript> | undefined;
  let node: NodeProcess | undefined;

  afterAll(async () => {
    await node?.stop();
    if (cluster && cluster.proc.exitCode === null) {
      cluster.proc.kill('SIGINT');
      await cluster.exit;
    }
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates an account, a token and a webhook to the Node example, and shows the events arrive', async () => {
    db = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'demo-data-'));
    const env = {
      DATABASE_URL: db.url,
      NATS_URL: `nats://127.0.0.1:${await freePort()}`,
      CONFIG_PORT: String(await freePort()),
      APPROVAL_PORT: String(await freePort()),
      DEV_DATA_DIR: dataDir,
      SECRETS_KEY: TEST_SECRETS_KEY,
      LOG_LEVEL: 'error',
      PATH: `/usr/sbin:${process.env.PATH}`,
    };
    const pki = ensureDemoPki(dataDir);
    cluster = spawnScript('start-cluster.js', { ...env, DELIVERY_NODES: '0' });
    await eventually(() => cluster!.out().includes('[start] ready'), { timeoutMs: 120_000, what: 'the cluster banner' });
    node = await spawnDeliveryNode('demo-node', { ...env, DELIVERY_CA_FILE: pki.caFile, DELIVERY_ALLOW_PRIVATE_NETWORKS: 'true' });
    await node.ready(120_000);

    const demo = spawnScript('demo.js', env);
    const code = await demo.exit;
    const out = demo.out();
    expect([code, out]).toEqual([0, expect.stringContaining('[demo] done: 3 events delivered, 1 redelivery deduplicated, 1 test event')]);
    expect(out.match(/verified and fetched by the consumer \d+ ms after publishing/g)).toHaveLength(3);
    expect(out.match(/\[consumer\] processed /g)).toHaveLength(3);
    expect(out.match(/\[consumer\] duplicate /g)).toHaveLength(1);
    expect(out).not.toContain('[consumer] rejected');
  });
});
