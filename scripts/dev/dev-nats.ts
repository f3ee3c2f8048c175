import { ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, openSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { hostPort, reachable } from './reachable';

/** A development nats-server that `npm start` started because nothing answered at NATS_URL. */
export interface DevNats {
  proc: ChildProcess;
  storeDir: string;
  logFile: string;
  stop(): Promise<void>;
}

export class StartError extends Error {}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** nats-server on PATH, or where Debian's package puts it. */
export function findNatsServer(path = process.env.PATH ?? ''): string | undefined {
  for (const dir of [...path.split(delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin']) {
    const candidate = join(dir, 'nats-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Makes sure a NATS server answers at the first address of natsUrl. When none does and that address
 * is this machine, starts nats-server with JetStream, its store and log under dataDir, and returns
 * it; when something answers, returns undefined.
 */
export async function ensureDevNats(natsUrl: string, dataDir: string): Promise<DevNats | undefined> {
  const first = natsUrl.split(',')[0].trim();
  const { host, port } = hostPort(first, 4222);
  for (const url of natsUrl.split(',')) {
    const hp = hostPort(url.trim(), 4222);
    if (await reachable(hp.host, hp.port)) return undefined;
  }
  if (!LOOPBACK.has(host)) throw new StartError(`nothing answers at NATS_URL (${host}:${port}); start NATS there or point NATS_URL at a running server`);
  const bin = findNatsServer();
  if (!bin)
    throw new StartError(
      `nothing answers at ${host}:${port} and nats-server is not installed: install it (Debian: apt-get install nats-server) or set NATS_URL to a running NATS with JetStream`,
    );

  const storeDir = join(dataDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const logFile = join(dataDir, 'nats-server.log');
  const log = openSync(logFile, 'a');
  // A process group of its own: Ctrl-C in the terminal reaches the apps, which still need NATS to hand
  // their partitions back; this server is stopped after they have exited.
  const proc = spawn(bin, ['-a', host === 'localhost' ? '127.0.0.1' : host, '-p', String(port), '-js', '-sd', storeDir], { stdio: ['ignore', log, log], detached: true });
  const deadline = Date.now() + 15_000;
  while (!(await reachable(host, port, 500))) {
    if (proc.exitCode !== null) throw new StartError(`nats-server exited (${proc.exitCode}) at start; see ${logFile}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new StartError(`nats-server did not listen on ${host}:${port} within 15 s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    proc,
    storeDir,
    logFile,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await gone;
    },
  };
}
