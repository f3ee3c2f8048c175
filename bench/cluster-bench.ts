import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import { createConfigServiceApp } from '../apps/config-service/src/main';
import { balancedOwners } from '@app/hashing';
import { publishEvent } from '@app/messaging';
import { ApiClient, listen, makeTestPki, NodeProcess, spawnDeliveryNode, startTestPlatform, Teardown, testEvent } from '@app/testing';
import { startSinkProcess } from './support/helpers';

/**
 * Cluster benchmark: 1, 2 and 3 delivery-node processes on this machine, each run delivering
 * --events events (default 3000) to a local HTTPS consumer in its own process (bench/sink.ts), and
 * the deliveries per second of each.
 * Uses its own nats-server and database (like the tests). Every event goes to exactly one webhook:
 * --webhooks accounts (default 64) with one webhook each (rate limit 100/s), events spread over them.
 *
 *   npm run build && node dist/bench/cluster-bench.js [--events 3000] [--webhooks 64] [--nodes 1,2,3]
 */
function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const EVENTS = Number(arg('events', '3000'));
const WEBHOOKS = Number(arg('webhooks', '64'));
const NODE_COUNTS = arg('nodes', '1,2,3').split(',').map(Number);
const PARTITIONS = 64;
const TYPE = 'identity.approved';

async function main(): Promise<void> {
  const pki = makeTestPki();
  // Everything started is stopped at the end, and also when a later step of the set-up fails.
  const teardown = new Teardown();
  const { platform, consumer, api, nc } = await teardown.guard(async () => {
    const platform = teardown.add(await startTestPlatform({ DELIVERY_CA_FILE: pki.caFile, DELIVERY_PARTITIONS: String(PARTITIONS), LOG_LEVEL: 'error' }), (p) => p.close());
    const consumer = teardown.add(await startSinkProcess(pki), (c) => c.close());
    const config = teardown.add(await createConfigServiceApp(), (c) => c.close());
    const api = new ApiClient(await listen(config));
    const nc = teardown.add(await connect({ servers: platform.nats.url }), (n) => n.close());
    return { platform, consumer, api, nc };
  });
  const js = nc.jetstream();
  const nodes: NodeProcess[] = [];
  const stopAll = async () => {
    await Promise.allSettled(nodes.splice(0).map((n) => n.stop(20_000)));
  };
  const results: Array<{ nodes: number; deliveries: number; seconds: number; perSecond: number }> = [];
  try {
    // One account and webhook per slot, so each event is one delivery.
    const accounts: string[] = [];
    let op!: ApiClient;
    const kv = await js.views.kv('webhooks');
    for (let i = 0; i < WEBHOOKS; i++) {
      const acct = await platform.account(`bench-${i}`);
      const dev = api.as(await acct.token('bench', ['developer', 'operator']));
      if (i === 0) op = dev;
      const res = await dev.post('/v2/webhooks', {
        name: `bench-${i}`,
        url: `${consumer.url}/hook/${i}`,
        auth_type: 'API_KEY',
        api_key: { header: 'X-Api-Key', key: 'k' },
        event_types: ['identity.*'],
        rate_limit: 100,
      });
      if (res.status !== 201) throw new Error(`webhook: ${res.status} ${res.text}`);
      accounts.push(acct.accountId);
      for (let t = 0; (await kv.get(res.body.id))?.operation !== 'PUT'; t++) {
        if (t > 200) throw new Error('webhook never reached KV');
        await new Promise((r) => setTimeout(r, 25));
      }
    }

    for (const n of NODE_COUNTS) {
      for (let i = 0; i < n; i++) nodes.push(await spawnDeliveryNode(`bench-node-${n}-${i}`, { LOG_LEVEL: 'warn' }));
      await Promise.all(nodes.map((x) => x.ready()));
      // Wait until ownership has settled: every node delivers exactly its share of the balanced assignment, so no
      // handover happens during the measurement.
      const ids = nodes.map((x) => x.id);
      const want = (id: string) => JSON.stringify(Array.from({ length: PARTITIONS }, (_, p) => p).filter((p) => balancedOwners(PARTITIONS, ids)[p] === id));
      for (const deadline = Date.now() + 60_000; ;) {
        const s = (await op.get('/v2/cluster')).body;
        const ok = s.nodes.length === n && s.nodes.every((x: { node: string; delivering: number[] }) => JSON.stringify([...x.delivering].sort((a, b) => a - b)) === want(x.node));
        if (ok) break;
        if (Date.now() > deadline) throw new Error(`cluster of ${n} did not settle: ${JSON.stringify(s.nodes)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await consumer.reset();
      const started = performance.timeOrigin + performance.now();
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < EVENTS; i++) {
        pending.push(publishEvent(js, testEvent(accounts[i % accounts.length], randomUUID(), TYPE, { identity_id: `i-${i}` })));
        if (pending.length >= 1000) await Promise.all(pending.splice(0));
      }
      await Promise.all(pending);
      const published = Math.round(performance.timeOrigin + performance.now() - started);
      await consumer.waitTotal(EVENTS, 300_000, true);
      const stats = await consumer.stats();
      const seconds = (stats.last! - started) / 1000;
      const result = { nodes: n, deliveries: EVENTS, seconds: Number(seconds.toFixed(2)), perSecond: Math.round(EVENTS / seconds) };
      results.push(result);
      console.log(
        `${n} node(s): ${EVENTS} deliveries in ${result.seconds} s = ${result.perSecond}/s (published in ${published} ms; ${stats.total - stats.distinct} duplicate sends)`,
      );
      await stopAll();
    }
    console.log(JSON.stringify({ events_per_run: EVENTS, webhooks: WEBHOOKS, partitions: PARTITIONS, results }));
  } finally {
    await stopAll();
    await teardown.run();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
