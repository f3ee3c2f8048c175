import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveRpc } from './support/child-rpc';

/**
 * The benchmark's HTTPS consumer, in a process of its own (forked by bench/support/sink-process.ts),
 * so that neither the raw client nor the delivery node shares a CPU budget with it. It answers every
 * request 200 "ok" after reading the whole body, counts requests, and keeps the arrival time of each
 * per path (milliseconds on the wall clock, sub-millisecond resolution). With `latency` on it also
 * keeps each arrival with the body's event id, for the bench to subtract the time it published that
 * event (its own wall clock, sub-millisecond: the body's `time` has whole milliseconds only, which
 * added half a millisecond on average).
 */
const now = () => performance.timeOrigin + performance.now();

let total = 0;
let connections = 0; // TLS handshakes completed since the last reset
let arrivals = new Map<string, number[]>();
let arrivalsById: Array<[string, number]> = [];
let distinct = new Set<string>(); // path + webhook-id: a duplicate send of one delivery counts once
let latencyOn = false;
let waiters: Array<{ done: () => boolean; resolve: () => void }> = [];

function onRequest(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const at = now();
    const path = req.url ?? '';
    total++;
    distinct.add(`${path} ${req.headers['webhook-id']}`);
    let list = arrivals.get(path);
    if (!list) arrivals.set(path, (list = []));
    list.push(at);
    if (latencyOn) {
      try {
        arrivalsById.push([(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string }).id, at]);
      } catch {
        // not one of ours
      }
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
    if (waiters.length) {
      const still = [];
      for (const w of waiters) {
        if (w.done()) w.resolve();
        else still.push(w);
      }
      waiters = still;
    }
  });
}

function waitUntil(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  if (done()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waiters = waiters.filter((w) => w.done !== done);
      reject(new Error(`${what} not reached within ${timeoutMs} ms (${total} requests received)`));
    }, timeoutMs);
    waiters.push({ done, resolve: () => (clearTimeout(timer), resolve()) });
  });
}

serveRpc({
  async start(m: { certFile: string; keyFile: string }) {
    const server = createServer({ key: readFileSync(m.keyFile), cert: readFileSync(m.certFile) }, onRequest);
    server.on('secureConnection', () => connections++);
    server.keepAliveTimeout = 60_000;
    server.headersTimeout = 65_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `https://127.0.0.1:${port}`, port };
  },
  reset(m: { latency?: boolean }) {
    total = 0;
    connections = 0;
    arrivals = new Map();
    arrivalsById = [];
    distinct = new Set();
    latencyOn = !!m.latency;
    return true;
  },
  stats() {
    let first = Infinity;
    let last = -Infinity;
    for (const l of arrivals.values()) {
      first = Math.min(first, l[0]);
      last = Math.max(last, l[l.length - 1]);
    }
    return { total, distinct: distinct.size, connections, paths: arrivals.size, first: Number.isFinite(first) ? first : null, last: Number.isFinite(last) ? last : null };
  },
  arrivals(m: { paths: string[] }) {
    return Object.fromEntries(m.paths.map((p) => [p, arrivals.get(p) ?? []]));
  },
  /** [event id, arrival] of every request since a reset with `latency` on. */
  arrivalsById() {
    return arrivalsById;
  },
  waitTotal(m: { n: number; timeoutMs: number; distinct?: boolean }) {
    return waitUntil(() => (m.distinct ? distinct.size : total) >= m.n, m.timeoutMs, `${m.n} ${m.distinct ? 'distinct deliveries' : 'requests'}`);
  },
  waitPaths(m: { want: Record<string, number>; timeoutMs: number }) {
    const want = Object.entries(m.want);
    return waitUntil(() => want.every(([p, n]) => (arrivals.get(p)?.length ?? 0) >= n), m.timeoutMs, `per-path counts ${JSON.stringify(m.want)}`);
  },
});
