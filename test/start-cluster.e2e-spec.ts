// Not on the e2e harness (test/support/harness.ts): it tests `npm start` itself, which refuses to start without PostgreSQL and starts its own nats-server when none answers.
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, eventually, exitAfterOutput, freePort, TEST_SECRETS_KEY, TestDatabase } from '@app/testing';
import { reachable } from '../scripts/dev/reachable';

jest.setTimeout(180_000);

/** `npm start` as a developer meets it: the built script, spawned with the environment under test. */
const START = join(process.cwd(), 'dist', 'scripts', 'start-cluster.js');

function startCluster(env: Record<string, string>): { proc: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null> } {
  const proc = spawn(process.execPath, [START], { env: { ...process.env, LOG_LEVEL: 'error', SECRETS_KEY: TEST_SECRETS_KEY, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (err += d));
  const exit = exitAfterOutput(proc);
  return { proc, out: () => out, err: () => err, exit };
}

describe('npm start (scripts/start-cluster)', () => {
  it('stops with one line saying how to provide PostgreSQL when none answers', async () => {
    const pgPort = await freePort();
    const run = startCluster({ DATABASE_URL: `postgres://postgres:pw@127.0.0.1:${pgPort}/webhooks`, NATS_URL: `nats://127.0.0.1:${await freePort()}` });
    expect(await run.exit).toBe(1);
    const lines = run.err().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`PostgreSQL is not reachable at 127.0.0.1:${pgPort}`);
    expect(lines[0]).toContain('DATABASE_URL=');
    expect(run.err()).not.toContain('pw@'); // no credentials
    expect(run.err()).not.toMatch(/\n\s+at /); // no stack
    expect(run.out()).not.toContain('started nats-server'); // nothing was started for a cluster that cannot run
  });

  describe('with nothing at NATS_URL and nats-server installed', () => {
    let db: TestDatabase;
    let dataDir: string;
    let run: ReturnType<typeof startCluster> | undefined;

    beforeAll(async () => {
      db = await createTestDatabase();
      dataDir = mkdtempSync(join(tmpdir(), 'dev-data-'));
    });
    afterAll(async () => {
      if (run && run.proc.exitCode === null) {
        run.proc.kill('SIGTERM');
        await run.exit;
      }
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('starts one with JetStream in the data folder, says so, prints the banner, and stops it on Ctrl-C', async () => {
      const [natsPort, configPort, approvalPort] = [await freePort(), await freePort(), await freePort()];
      run = startCluster({
        DATABASE_URL: db.url,
        NATS_URL: `nats://127.0.0.1:${natsPort}`,
        CONFIG_PORT: String(configPort),
        APPROVAL_PORT: String(approvalPort),
        DELIVERY_NODES: '0',
        DEV_DATA_DIR: dataDir,
        PATH: `/usr/sbin:${process.env.PATH}`,
      });
      await eventually(() => run!.out().includes('[start] ready') || (run!.proc.exitCode !== null && Promise.reject(new Error(run!.err()))), {
        timeoutMs: 120_000,
        what: 'the start banner',
      });
      expect(run.out()).toContain(`nothing answered at nats://127.0.0.1:${natsPort}: started nats-server with JetStream (data in ${join(dataDir, 'nats')}`);
      expect(run.out()).toContain(`dashboard        http://127.0.0.1:${configPort}/`);
      expect(run.out()).toContain(`approval API     http://127.0.0.1:${approvalPort}/v2/...`);
      expect(run.out()).toContain('npm run admin -- token:create');
      expect(await reachable('127.0.0.1', natsPort)).toBe(true);
      expect(existsSync(join(dataDir, 'nats', 'jetstream'))).toBe(true); // the services created their streams there
      expect((await fetch(`http://127.0.0.1:${configPort}/health`)).status).toBe(200);

      run.proc.kill('SIGINT');
      expect(await run.exit).toBe(0);
      expect(await reachable('127.0.0.1', natsPort)).toBe(false);
      expect(run.err()).toBe('');
    });
  });
});
