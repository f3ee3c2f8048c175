// Not on the e2e harness (test/support/harness.ts): it runs the built apps as bare processes that must fail at start-up before connecting to anything, so there is no platform to set up.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** An app's built main() run as operators run it, with the environment given and nothing else. */
function runMain(app: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const proc = spawn(process.execPath, [join(process.cwd(), 'dist', 'apps', app, 'src', 'main.js')], { env: { PATH: process.env.PATH ?? '', ...env } });
  let stderr = '';
  let stdout = '';
  proc.stderr.on('data', (d) => (stderr += d));
  proc.stdout.on('data', (d) => (stdout += d));
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, stderr, stdout })));
}

describe("an app's start-up with a bad variable (built apps: npm run build)", () => {
  it.each(['config-service', 'approval-service', 'delivery-node'])('%s stops with one line naming the variable, before connecting to anything', async (app) => {
    const run = await runMain(app, { SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'), DELIVERY_PARTITONS: '8', DATABASE_URL: 'postgres://u:secret-pw@127.0.0.1:1/x' });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${app}: configuration refused: DELIVERY_PARTITONS is not a variable .*did you mean DELIVERY_PARTITIONS\\?`)),
    ]);
    expect(run.stderr).not.toContain('secret-pw');
  });
});
