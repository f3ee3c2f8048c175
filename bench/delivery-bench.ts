import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import { Agent, request } from 'undici';
import { createConfigServiceApp } from '../apps/config-service/src/main';
import { objectTypeOf } from '../libs/domain/src';
import { publishEvent } from '../libs/messaging/src';
import { ApiClient, listen, makeTestPki, spawnDeliveryNode, startHttpsConsumer, startTestPlatform } from '../libs/testing/src';

/**
 * One delivery node against a local HTTPS consumer: deliveries per second and publish-to-delivery
 * latency, beside the raw ceiling (undici posting straight to the same consumer with the same
 * connection count) measured in the same run.
 */
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 5);
const HOOKS_PER_ACCOUNT = 10;
const EVENTS = Number(process.env.BENCH_EVENTS ?? 2000); // each fans out to HOOKS_PER_ACCOUNT webhooks
const CONNECTIONS = 64;
const STEADY_EVENTS_PER_SECOND = 50;
const STEADY_SECONDS = 5;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function rawCeiling(url: string, ca: string, total: number): Promise<number> {
  const agent = new Agent({ connections: CONNECTIONS, pipelining: 1, connect: { ca } });
  const body = JSON.stringify({ id: randomUUID(), type: 'identity.approved', source: 'com.paxos', time: new Date().toISOString(), object: 'event', is_test: false });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next++ < total) {
        const res = await request(`${url}/raw`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
        await res.body.dump();
      }
    }),
  );
  const secs = (performance.now() - started) / 1000;
  await agent.close();
  return total / secs;
}

async function main(): Promise<void> {
  const pki = makeTestPki();
  const platform = await startTestPlatform({ DELIVERY_CA_FILE: pki.caFile, DELIVERY_PARTITIONS: '64', LOG_LEVEL: 'error' });
  const consumer = await startHttpsConsumer({ pki, handler: () => ({ status: 200 }) });
  const config = await createConfigServiceApp();
  const api = new ApiClient(await listen(config));
  const nc = await connect({ servers: platform.nats.url });
  try {
    const accounts: string[] = [];
    for (let a = 0; a < ACCOUNTS; a++) {
      const acct = await platform.account(`bench-${a}`);
      const dev = api.as(await acct.token('bench', ['developer']));
      for (let h = 0; h < HOOKS_PER_ACCOUNT; h++) {
        const res = await dev.post('/v2/webhooks', {
          name: `hook-${h}`, url: `${consumer.url}/a${a}/h${h}`, auth_type: 'API_KEY', api_key: { header: 'X-Key', key: 'bench-key' },
          event_types: ['identity.*'], rate_limit: 100,
        });
        if (res.status !== 201) throw new Error(`create webhook: ${res.status} ${res.text}`);
      }
      accounts.push(acct.accountId);
    }
    const expected = EVENTS * HOOKS_PER_ACCOUNT;
    const raw = await rawCeiling(consumer.url, pki.caPem, expected);
    consumer.requests.length = 0;

    const node = await spawnDeliveryNode('bench-1', {});
    await node.ready();
    const js = nc.jetstream();
    const type = 'identity.approved';
    const started = Date.now();
    await Promise.all(
      Array.from({ length: EVENTS }, (_, i) =>
        publishEvent(js, { id: randomUUID(), account_id: accounts[i % ACCOUNTS], type, time: new Date().toISOString(), object_type: objectTypeOf(type)!, object: { i } }),
      ),
    );
    const published = Date.now();
    await consumer.waitFor((r) => r.length >= expected, 600_000);
    const done = Date.now();
    const latencies = consumer.requests.map((r) => r.receivedAt - Date.parse(JSON.parse(r.body).time)).sort((a, b) => a - b);
    const rate = expected / ((done - started) / 1000);
    const cap = ACCOUNTS * HOOKS_PER_ACCOUNT * 100;

    // Steady load well under capacity: latency as a consumer sees it day to day, not queueing time.
    consumer.requests.length = 0;
    const steadyEvents = STEADY_EVENTS_PER_SECOND * STEADY_SECONDS;
    for (let s = 0; s < STEADY_SECONDS * 10; s++) {
      const tick = Date.now();
      await Promise.all(
        Array.from({ length: STEADY_EVENTS_PER_SECOND / 10 }, (_, i) =>
          publishEvent(js, { id: randomUUID(), account_id: accounts[i % ACCOUNTS], type, time: new Date().toISOString(), object_type: objectTypeOf(type)!, object: { i } }),
        ),
      );
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - tick))));
    }
    await consumer.waitFor((r) => r.length >= steadyEvents * HOOKS_PER_ACCOUNT, 120_000);
    const steady = consumer.requests.map((r) => r.receivedAt - Date.parse(JSON.parse(r.body).time)).sort((a, b) => a - b);

    console.log('delivery benchmark (one node, local HTTPS consumer, 2-core machine)');
    console.log(`  events published          ${EVENTS} (${Math.round(EVENTS / ((published - started) / 1000))}/s), ${expected} deliveries to ${ACCOUNTS * HOOKS_PER_ACCOUNT} webhooks at rate_limit 100`);
    console.log(`  deliveries per second     ${Math.round(rate)}   (the webhooks' rate limits allow at most ${cap}/s)`);
    console.log(`  burst: publish-to-delivery p50 ${pct(latencies, 50)} ms, p99 ${pct(latencies, 99)} ms (all ${expected} queued at once)`);
    console.log(`  steady ${STEADY_EVENTS_PER_SECOND * HOOKS_PER_ACCOUNT} deliveries/s for ${STEADY_SECONDS} s: publish-to-delivery p50 ${pct(steady, 50)} ms, p99 ${pct(steady, 99)} ms`);
    console.log(`  raw undici ceiling        ${Math.round(raw)} requests/s (${CONNECTIONS} connections, same consumer)`);
    console.log(`  ratio                     ${(rate / raw).toFixed(2)} of the raw ceiling`);
    await node.stop();
  } finally {
    await nc.close();
    await config.close();
    await consumer.close();
    await platform.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
