import { join } from 'node:path';
import type { TestPki } from '../../libs/testing/src';
import { forkRpcChild, RpcChild } from './child-rpc';

/** dist/bench/<name>.js: the compiled helper scripts sit next to the compiled bench. */
const helper = (name: string) => join(__dirname, '..', `${name}.js`);

/** One delivery of the latency phase: when its event was published (wall clock, ms) and how long it took to arrive. */
export interface LatencySample {
  sentAt: number;
  ms: number;
}

export interface Sink {
  url: string;
  pid: number;
  reset(opts?: { latency?: boolean }): Promise<void>;
  stats(): Promise<{ total: number; distinct: number; connections: number; paths: number; first: number | null; last: number | null }>;
  arrivals(paths: string[]): Promise<Record<string, number[]>>;
  /**
   * Each request received while `latency` was on: its event's publish time and its arrival minus
   * that, in ms, from the bench's own publish times by event id (wall clock, sub-millisecond, as the
   * sink's arrivals).
   */
  latencies(publishedAt: Map<string, number>): Promise<LatencySample[]>;
  /** Until `n` requests (with `distinct`: `n` different path + webhook-id pairs) have arrived. */
  waitTotal(n: number, timeoutMs?: number, distinct?: boolean): Promise<void>;
  waitPaths(want: Record<string, number>, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** The HTTPS consumer in its own process (bench/sink.ts), serving the test PKI's certificate. */
export async function startSinkProcess(pki: Pick<TestPki, 'certFile' | 'keyFile'>): Promise<Sink> {
  const child: RpcChild = await forkRpcChild(helper('sink'), 'sink');
  const { url } = await child.call<{ url: string }>('start', { certFile: pki.certFile, keyFile: pki.keyFile });
  return {
    url,
    pid: child.pid,
    reset: async (opts = {}) => void (await child.call('reset', opts)),
    stats: () => child.call('stats'),
    arrivals: (paths) => child.call('arrivals', { paths }),
    latencies: async (publishedAt) =>
      (await child.call<Array<[string, number]>>('arrivalsById')).flatMap(([id, at]) => {
        const sent = publishedAt.get(id);
        return sent === undefined ? [] : [{ sentAt: sent, ms: at - sent }];
      }),
    waitTotal: async (n, timeoutMs = 300_000, distinct = false) => void (await child.call('waitTotal', { n, timeoutMs, distinct }, timeoutMs + 5_000)),
    waitPaths: async (want, timeoutMs = 300_000) => void (await child.call('waitPaths', { want, timeoutMs }, timeoutMs + 5_000)),
    close: () => child.close(),
  };
}

export interface RawClient {
  pid: number;
  ceiling(total: number, paths: number): Promise<{ requests: number; seconds: number; perSecond: number }>;
  steady(rate: number, seconds: number, paths: number): Promise<{ requests: number; p50: number; p99: number }>;
  close(): Promise<void>;
}

/** The raw ceiling's undici client in its own process (bench/raw-client.ts). */
export async function startRawClient(url: string, ca: string, connections: number): Promise<RawClient> {
  const child = await forkRpcChild(helper('raw-client'), 'raw client');
  await child.call('setup', { url, ca, connections });
  return {
    pid: child.pid,
    ceiling: (total, paths) => child.call('ceiling', { total, connections, paths }),
    steady: (rate, seconds, paths) => child.call('steady', { rate, seconds, paths }),
    close: () => child.close(),
  };
}

export function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

/**
 * What one webhook received at the consumer: the rate over the steady part (the first and the last
 * second of the run left out), and the most requests in any one-second window (a window starting at
 * each arrival, holding the arrivals less than 1000 ms after it).
 */
export function rateAccuracy(arrivals: number[]): {
  count: number;
  seconds: number;
  steadyPerSecond: number;
  maxWindow: number;
  /** Where the fullest window starts (ms after the first arrival), how long it spans, and the gaps inside it. */
  worstAtMs: number;
  worstSpanMs: number;
  worstGapsMs: number[];
} {
  const t = [...arrivals].sort((a, b) => a - b);
  const seconds = t.length > 1 ? (t[t.length - 1] - t[0]) / 1000 : 0;
  const from = t[0] + 1000;
  const to = t[t.length - 1] - 1000;
  const inner = t.filter((x) => x >= from && x < to).length;
  let maxWindow = 0;
  let at = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (j < t.length && t[j] < t[i] + 1000) j++;
    if (j - i > maxWindow) [maxWindow, at] = [j - i, i];
  }
  const worst = t.slice(at, at + maxWindow);
  return {
    count: t.length,
    seconds,
    steadyPerSecond: to > from ? inner / ((to - from) / 1000) : NaN,
    maxWindow,
    worstAtMs: (worst[0] ?? t[0]) - t[0],
    worstSpanMs: worst.length ? worst[worst.length - 1] - worst[0] : 0,
    worstGapsMs: worst.slice(1).map((x, k) => x - worst[k]),
  };
}
