import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './nats-server';

/** Built apps; tests and benchmarks run from the repository root. */
const DIST = join(process.cwd(), 'dist');

export interface AppProcess {
  name: string;
  port: number;
  proc: ChildProcess;
  /** The last lines it printed, for failure messages. */
  output(): string;
  waitHealthy(timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM and wait for the exit (SIGKILL after the grace period). */
  stop(graceMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

/**
 * Runs a built app (`npm run build` first) as a real process: for crash, failover and cluster tests.
 * The environment is the test platform's (process.env) plus `env`.
 */
export async function spawnApp(app: 'delivery-node' | 'config-service' | 'approval-service', env: Record<string, string> = {}): Promise<AppProcess> {
  const entry = join(DIST, 'apps', app, 'src', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` before the end-to-end tests`);
  const port = await freePort();
  const portEnv = app === 'config-service' ? { CONFIG_PORT: String(port) } : app === 'approval-service' ? { APPROVAL_PORT: String(port) } : { PORT: String(port) };
  const nodeArgs = (process.env.APP_NODE_ARGS ?? '').split(' ').filter(Boolean); // e.g. --cpu-prof for profiling
  const proc = spawn(process.execPath, [...nodeArgs, entry], { env: { ...process.env, ...portEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const name = env.NODE_ID ?? app;
  const self: AppProcess = {
    name,
    port,
    proc,
    exited,
    output: () => out,
    async waitHealthy(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (proc.exitCode !== null) throw new Error(`${name} exited (${proc.exitCode}):\n${out}`);
        try {
          const res = await fetch(`http://127.0.0.1:${port}/health`);
          if (res.ok) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`${name} not healthy after ${timeoutMs} ms:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    kill(signal) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
    async stop(graceMs = 15_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      proc.kill('SIGTERM');
      await exited;
      clearTimeout(t);
    },
  };
  return self;
}
