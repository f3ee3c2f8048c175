import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './nats-server';
import { exitAfterOutput } from './process-exit';
import type { NetHost } from './netns';

/**
 * A delivery node as a real child process (`node dist/apps/delivery-node/src/main.js`), for crash,
 * cluster and benchmark runs. Needs `npm run build` first. The environment is the test platform's
 * (process.env) plus `env`; APP_NODE_ARGS adds node flags (e.g. --cpu-prof).
 */
export interface NodeProcess {
  id: string;
  port: number;
  proc: ChildProcess;
  /** Last lines of its output. */
  output(): string;
  /** Resolves when /health answers 200 (the node has started its partitions). */
  ready(timeoutMs?: number): Promise<void>;
  /** SIGTERM (graceful leave) and wait for the exit. */
  stop(timeoutMs?: number): Promise<void>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  pause(): void;
  resume(): void;
  exited: boolean;
}

/** Tests and benchmarks run from the repository root, where `npm run build` writes dist/. */
export const DELIVERY_NODE_MAIN = join(process.cwd(), 'dist', 'apps', 'delivery-node', 'src', 'main.js');

/** `host`: run the node inside that network-lab host's namespace (its /health is then at the host's address). */
export async function spawnDeliveryNode(id: string, env: Record<string, string | undefined>, opts: { main?: string; echo?: boolean; host?: NetHost } = {}): Promise<NodeProcess> {
  const port = opts.host ? 3100 : await freePort();
  const nodeArgs = (process.env.APP_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const args = ['--enable-source-maps', ...nodeArgs, opts.main ?? DELIVERY_NODE_MAIN];
  const spawnOpts = {
    env: { ...process.env, ...env, NODE_ID: id, PORT: String(port), NATS_CLIENT_NAME: id },
    stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'],
  };
  // `ip netns exec` execs the command, so the child's pid (and signals) are the node's own.
  const proc = opts.host ? opts.host.spawn(process.execPath, args, spawnOpts) : spawn(process.execPath, args, spawnOpts);
  const healthHost = opts.host?.address ?? '127.0.0.1';
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
    if (opts.echo)
      process.stdout.write(
        d
          .toString()
          .split('\n')
          .filter(Boolean)
          .map((l) => `[${id}] ${l}\n`)
          .join(''),
      );
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exit = exitAfterOutput(proc).then(() => undefined);
  const node: NodeProcess = {
    id,
    port,
    proc,
    exited: false,
    output: () => out,
    async ready(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (node.exited) throw new Error(`delivery node ${id} exited during start-up:\n${out.slice(-3000)}`);
        const ok = await fetch(`http://${healthHost}:${port}/health`, { signal: AbortSignal.timeout(5000) }).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`delivery node ${id} not ready after ${timeoutMs} ms:\n${out.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop(timeoutMs = 30_000) {
      if (node.exited) return;
      proc.kill('SIGCONT');
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      await exit;
      clearTimeout(timer);
    },
    async kill() {
      if (node.exited) return;
      proc.kill('SIGKILL');
      await exit;
    },
    pause: () => void proc.kill('SIGSTOP'),
    resume: () => void proc.kill('SIGCONT'),
  };
  void exit.then(() => (node.exited = true));
  return node;
}
