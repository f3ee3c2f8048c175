import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import { signPayload } from '../libs/crypto/src/signature';
import { serveRpc } from './support/child-rpc';

/**
 * The raw ceiling's client, in a process of its own: undici posting the same signed thin body a
 * delivery node sends (Standard Webhooks headers, an API key header, a fresh event id and signature
 * per request) to the bench's sink, over `connections` keep-alive connections. Paths cycle over
 * `paths` webhook-like paths so the sink does the same bookkeeping as in the end-to-end run.
 */
const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
let agent: Agent | undefined;
let base = '';

function send(path: string): Promise<void> {
  const id = randomUUID();
  const time = new Date().toISOString();
  // Same shape and size as apps/delivery-node thinBody().
  const body = JSON.stringify({ id, type: 'identity.approved', source: 'com.paxos', time, object: 'event', is_test: false });
  const ts = Math.floor(Date.now() / 1000);
  return request(base + path, {
    method: 'POST',
    body,
    dispatcher: agent,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'webhooks-delivery/1',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signPayload(SECRET, id, ts, body),
      'x-key': 'bench-key',
    },
  }).then(async (res) => {
    await res.body.text();
    if (res.statusCode !== 200) throw new Error(`sink answered ${res.statusCode}`);
  });
}

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

serveRpc({
  setup(m: { url: string; ca: string; connections: number }) {
    base = m.url;
    agent = new Agent({ connections: m.connections, pipelining: 1, connect: { ca: m.ca } });
    return true;
  },
  /** As fast as `connections` closed loops go: requests per second. */
  async ceiling(m: { total: number; connections: number; paths: number }) {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: m.connections }, async () => {
        for (let i = next++; i < m.total; i = next++) await send(`/raw/h${i % m.paths}`);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { requests: m.total, seconds, perSecond: m.total / seconds };
  },
  /** Open loop at `rate` requests per second for `seconds`: round-trip latency percentiles. */
  async steady(m: { rate: number; seconds: number; paths: number }) {
    const latencies: number[] = [];
    const pending: Promise<void>[] = [];
    const started = performance.now();
    let sent = 0;
    while (performance.now() - started < m.seconds * 1000) {
      const due = Math.floor(((performance.now() - started) / 1000) * m.rate);
      for (; sent < due; sent++) {
        const t = performance.now();
        pending.push(send(`/raw/h${sent % m.paths}`).then(() => void latencies.push(performance.now() - t)));
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(pending);
    latencies.sort((a, b) => a - b);
    return { requests: sent, p50: pct(latencies, 50), p99: pct(latencies, 99) };
  },
});
