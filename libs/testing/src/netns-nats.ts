import { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket } from 'node:net';
import { eventually } from './http-client';
import { waitForJetStreamLeader } from './nats-cluster';
import { NATS_SERVER_BIN } from './nats-server';
import type { NetHost } from './netns';

export const NETNS_NATS_CLIENT_PORT = 4222;
const ROUTE_PORT = 6222;
export const NETNS_NATS_MONITOR_PORT = 8222;

/** nats-server by absolute path: `ip netns exec` searches a PATH that may lack /usr/sbin. */
function natsServerBin(): string {
  if (NATS_SERVER_BIN.includes('/')) return NATS_SERVER_BIN;
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/bin', '/usr/bin']) {
    if (dir && existsSync(join(dir, NATS_SERVER_BIN))) return join(dir, NATS_SERVER_BIN);
  }
  return NATS_SERVER_BIN;
}

export interface NetnsNatsServer {
  host: NetHost;
  url: string;
  /** Client names connected to this server now (from its monitoring endpoint). */
  clientNames(): Promise<string[]>;
}

export interface NetnsNatsCluster {
  servers: NetnsNatsServer[];
  /** Every server's URL, comma-separated. */
  url: string;
  dispose(): Promise<void>;
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.setTimeout(1000, () => (s.destroy(), resolve(false)));
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => (s.destroy(), resolve(false)));
    s.connect(port, host);
  });
}

/**
 * A JetStream cluster with one server in each given host's namespace (fixed ports: each namespace
 * has its own), routed over the lab network; resolves once JetStream has a meta leader. With
 * `logDir`, each server logs to `nats-server-<host>.log` there.
 */
export async function startNetnsNatsCluster(hosts: NetHost[], opts: { logDir?: string } = {}): Promise<NetnsNatsCluster> {
  const routes = hosts.map((h) => `nats://${h.address}:${ROUTE_PORT}`).join(',');
  const stores: string[] = [];
  const procs: ChildProcess[] = [];
  const stderr = new Map<ChildProcess, string>();
  const dispose = async () => {
    await Promise.all(
      procs.map((p) => {
        if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
        const gone = new Promise((r) => p.once('exit', r));
        p.kill('SIGKILL');
        return gone;
      }),
    );
    for (const d of stores) rmSync(d, { recursive: true, force: true });
  };
  try {
    const servers = hosts.map((host): NetnsNatsServer => {
      const storeDir = mkdtempSync(join(tmpdir(), 'nats-netns-'));
      stores.push(storeDir);
      const proc = host.spawn(
        natsServerBin(),
        [
          '-a',
          host.address,
          '-p',
          String(NETNS_NATS_CLIENT_PORT),
          '-m',
          String(NETNS_NATS_MONITOR_PORT),
          '-js',
          '-sd',
          storeDir,
          '-n',
          `${host.name}`,
          '--cluster_name',
          'netfaults',
          '--cluster',
          `nats://${host.address}:${ROUTE_PORT}`,
          '--routes',
          routes,
          ...(opts.logDir ? ['-l', join(opts.logDir, `nats-server-${host.name}.log`)] : []),
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      procs.push(proc);
      proc.stderr?.on('data', (d) => stderr.set(proc, ((stderr.get(proc) ?? '') + d).slice(-4000)));
      return {
        host,
        url: `nats://${host.address}:${NETNS_NATS_CLIENT_PORT}`,
        async clientNames() {
          const res = await fetch(`http://${host.address}:${NETNS_NATS_MONITOR_PORT}/connz?limit=1024`, { signal: AbortSignal.timeout(3000) });
          const body = (await res.json()) as { connections?: Array<{ name?: string }> };
          return (body.connections ?? []).map((c) => c.name ?? '').filter(Boolean);
        },
      };
    });
    await eventually(
      async () => {
        for (const p of procs) if (p.exitCode !== null) throw new Error(`nats-server exited (${p.exitCode}): ${stderr.get(p) ?? ''}`);
        return (await Promise.all(hosts.map((h) => portOpen(h.address, NETNS_NATS_CLIENT_PORT)))).every(Boolean);
      },
      { what: 'the NATS servers listening', timeoutMs: 20_000, intervalMs: 100 },
    );
    const url = servers.map((s) => s.url).join(',');
    await waitForJetStreamLeader(url);
    return { servers, url, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}
