import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { connect, JetStreamClient } from 'nats';
import { Client } from 'pg';
import { createConfigServiceApp } from '../apps/config-service/src/main';
import { MAX_WEBHOOKS_PER_ACCOUNT } from '../libs/domain/src';
import { publishEvent } from '../libs/messaging/src';
import { ApiClient, listen, makeTestPki, NodeProcess, spawnDeliveryNode, startTestPlatform, Teardown, testEvent, TestPlatform, waitForWebhooksInKv } from '../libs/testing/src';
import { fillWebhooksKv } from './support/kv-fill';
import { pct, rateAccuracy, startRawClient, startSinkProcess } from './support/helpers';
import { bucketQuantile, bucketsBetween, histogramBuckets } from './support/histogram';
import { gcBetween, gcTotals, latencyTail } from './support/latency-tail';
import { DEFAULT_SIZES, scaleOutLine } from './support/scale-out';
import { childrenNamed, CLK_TCK, CpuMeter, loadAverage, machine, postgresPids, rssMb } from './support/proc-stats';
import { appendRun } from './support/results-file';

/**
 * One delivery node against an HTTPS consumer in its own process (bench/sink.ts), beside the raw
 * ceiling: undici in its own process (bench/raw-client.ts) posting the same signed thin body to the
 * same consumer over 64 connections. Phases: raw ceiling, end to end (everything queued at once),
 * latency at half the measured capacity (and raw latency at the same rate), rate accuracy at
 * rate_limit 100 and 5, memory with a large webhook index. CPU of every process from /proc.
 * Prints a summary and appends it to bench/results.md. Sizes: see the BENCH_* constants below.
 */
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const HOOKS_PER_ACCOUNT = MAX_WEBHOOKS_PER_ACCOUNT; // 10
const ACCOUNTS = env('BENCH_ACCOUNTS', 20); // 200 webhooks at rate_limit 100
const EVENTS = env('BENCH_EVENTS', 2000); // each fans out to the account's 10 webhooks: 20,000 deliveries
const CONNECTIONS = 64;
const RATE_SECONDS = env('BENCH_RATE_SECONDS', 22); // backlog of R x this for the rate-accuracy webhooks
const LATENCY_SECONDS = env('BENCH_LATENCY_SECONDS', 10);
const RAW_LATENCY_SECONDS = env('BENCH_RAW_LATENCY_SECONDS', 5);
const LATENCY_RATE = env('BENCH_LATENCY_RATE', 0); // deliveries/s of the latency phase; 0: half the measured capacity
const MEMORY_WEBHOOKS = env('BENCH_MEMORY_WEBHOOKS', 100_000); // 0 skips the memory phase
const MEMORY_LANES = env('BENCH_MEMORY_LANES', 1000);
const ONLY_MEMORY = process.env.BENCH_ONLY === 'memory'; // BENCH_ONLY=memory: the memory phase alone
const WARM_UP = env('BENCH_WARM_UP_EVENTS', 100); // before each measured run (x10 requests for the raw client)
const TYPE = 'identity.approved';
const RESULTS = process.env.BENCH_RESULTS ?? join(process.cwd(), 'bench', 'results.md'); // e.g. /dev/null for a trial run

const wall = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r0 = (n: number) => Math.round(n).toLocaleString('en-US');
const f2 = (n: number) => n.toFixed(2);
/** A delivery of the latency phase slower than this counts in its tail. */
const SLOW_MS = 10;
const f3 = (n: number) => n.toFixed(3);

function event(accountId: string, i: number) {
  return testEvent(accountId, randomUUID(), TYPE, { identity_id: `i-${i}` });
}

async function publishAll(js: JetStreamClient, accountOf: (i: number) => string, count: number): Promise<void> {
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    pending.push(publishEvent(js, event(accountOf(i), i)));
    if (pending.length >= 1000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
}

async function main(): Promise<void> {
  const out: string[] = [];
  const say = (line = '') => {
    console.log(line);
    out.push(line);
  };
  const pki = makeTestPki();
  // Everything started is stopped at the end, and also when a later step of the set-up fails.
  const teardown = new Teardown();
  const { platform, sink, raw, api, nc, pg } = await teardown.guard(async () => {
    const platform: TestPlatform = teardown.add(
      await startTestPlatform({ DELIVERY_CA_FILE: pki.caFile, DELIVERY_PARTITIONS: process.env.BENCH_PARTITIONS ?? '64', LOG_LEVEL: 'error' }),
      (p) => p.close(),
    );
    const sink = teardown.add(await startSinkProcess(pki), (s) => s.close());
    const raw = teardown.add(await startRawClient(sink.url, pki.caPem, CONNECTIONS), (r) => r.close());
    const config = teardown.add(await createConfigServiceApp(), (c) => c.close());
    const api = new ApiClient(await listen(config));
    const nc = teardown.add(await connect({ servers: platform.nats.url }), (n) => n.close());
    const pg = new Client({ connectionString: platform.db.url });
    await pg.connect();
    teardown.add(pg, (c) => c.end());
    return { platform, sink, raw, api, nc, pg };
  });
  const js = nc.jetstream();
  const pollerPid = (await pg.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid;
  const succeeded = async () => (await pg.query<{ n: number }>(`select count(*)::int as n from deliveries where status = 'SUCCEEDED'`)).rows[0].n;
  const natsPids = childrenNamed('nats-server');
  let node: NodeProcess | undefined;
  const closeAll = async () => {
    if (node) await node.stop().catch(() => undefined);
    await teardown.run();
  };
  if (ONLY_MEMORY) {
    try {
      const m = machine();
      say(`delivery bench, memory phase only: ${m.cpu}, ${m.cores} cores, ${m.ramGb} GB; load average ${loadAverage()} at start`);
      say(memoryLine(await memoryPhase(platform, js, sink)));
      writeResults(out);
    } finally {
      await closeAll();
    }
    return;
  }
  const pgGroups = () => {
    const p = postgresPids(platform.db.name);
    return { backends: p.backends.filter((x) => x !== pollerPid), shared: p.shared };
  };
  try {
    // Webhooks: ACCOUNTS x 10 at rate_limit 100, plus one account each for the rate-accuracy webhooks.
    const hookIds: string[] = [];
    const createHook = async (name: string, path: string, rate: number) => {
      const acct = await platform.account(name);
      const dev = api.as(await acct.token('bench', ['developer']));
      return {
        accountId: acct.accountId,
        add: async (h: number, p = path) => {
          const res = await dev.post('/v2/webhooks', {
            name: `hook-${h}`,
            url: `${sink.url}${p}`,
            auth_type: 'API_KEY',
            api_key: { header: 'X-Key', key: 'bench-key' },
            event_types: ['identity.*'],
            rate_limit: rate,
          });
          if (res.status !== 201) throw new Error(`create webhook: ${res.status} ${res.text}`);
          hookIds.push(res.body.id);
        },
      };
    };
    const accounts: string[] = [];
    for (let a = 0; a < ACCOUNTS; a++) {
      const acct = await createHook(`bench-${a}`, '', 100);
      for (let h = 0; h < HOOKS_PER_ACCOUNT; h++) await acct.add(h, `/a${a}/h${h}`);
      accounts.push(acct.accountId);
    }
    const rateHooks = [] as { rate: number; path: string; accountId: string }[];
    for (const rate of [100, 5]) {
      const acct = await createHook(`bench-rate-${rate}`, `/rate/r${rate}`, rate);
      await acct.add(0);
      rateHooks.push({ rate, path: `/rate/r${rate}`, accountId: acct.accountId });
    }
    await waitForWebhooksInKv(nc, hookIds);
    const expected = EVENTS * HOOKS_PER_ACCOUNT;
    const webhooks = ACCOUNTS * HOOKS_PER_ACCOUNT;
    const m = machine();
    say(`delivery bench: ${m.cpu}, ${m.cores} cores, ${m.ramGb} GB; load average ${loadAverage()} at start; CLK_TCK ${CLK_TCK}`);

    // 1. Raw ceiling: client and sink each in their own process, nothing else running. Run once
    // before the end-to-end run and once after the first node has stopped, and taken together: on a shared machine one short
    // run can be a third off either way, and the ratio is only as good as its denominator.
    const rawMeter = new CpuMeter(() => ({ client: [raw.pid], sink: [sink.pid] }));
    await raw.ceiling(WARM_UP * HOOKS_PER_ACCOUNT, webhooks); // connections open, code warm
    const rawRun = async () => {
      await sink.reset();
      rawMeter.begin();
      const run = await raw.ceiling(expected, webhooks);
      return { ...run, cpu: rawMeter.end(), connections: (await sink.stats()).connections };
    };
    const rawBefore = await rawRun();

    // 2. End to end: one node, everything queued at once; done when the last delivery row is SUCCEEDED.
    const e2eParts = ['node', 'nats', 'postgres', 'postgres shared', 'sink'] as const;
    const endToEnd = async (running: NodeProcess) => {
      const e2eMeter = new CpuMeter(() => ({
        node: [running.proc.pid!],
        nats: natsPids,
        postgres: pgGroups().backends,
        'postgres shared': pgGroups().shared,
        sink: [sink.pid],
        driver: [process.pid],
      }));
      // Warm-up, as for the raw client: a few events through every webhook, not measured.
      const warmBase = await succeeded();
      await publishAll(js, (i) => accounts[i % ACCOUNTS], WARM_UP);
      for (const deadline = Date.now() + 180_000; (await succeeded()) < warmBase + WARM_UP * HOOKS_PER_ACCOUNT; await sleep(50)) {
        if (Date.now() > deadline) throw new Error('warm-up deliveries not recorded within 180 s');
      }
      await sink.reset();
      const base = await succeeded();
      e2eMeter.begin();
      const started = wall();
      await publishAll(js, (i) => accounts[i % ACCOUNTS], EVENTS);
      const published = wall();
      await sink.waitTotal(expected, 600_000);
      const sinkStats = await sink.stats();
      let recorded = await succeeded();
      for (const deadline = Date.now() + 120_000; recorded < base + expected; recorded = await succeeded()) {
        if (Date.now() > deadline) throw new Error(`only ${recorded - base} of ${expected} deliveries recorded SUCCEEDED after 120 s`);
        await sleep(20);
      }
      const done = wall();
      const cpu = e2eMeter.end();
      const cpuTotal = e2eParts.reduce((sum, k) => sum + cpu[k], 0);
      return { started, published, done, sinkStats, cpu, cpuTotal, rate: expected / ((done - started) / 1000), duplicates: sinkStats.total - sinkStats.distinct };
    };
    node = await spawnDeliveryNode('bench-1', {});
    await node.ready();
    const nodePid = node.proc.pid!;
    const e2e = await endToEnd(node);
    const { started, published, done, sinkStats, cpu: e2eCpu, cpuTotal: e2eCpuTotal, rate: e2eRate, duplicates } = e2e;
    const rssAfterE2e = rssMb(nodePid);

    // 3. Latency at half the measured capacity, then raw latency at the same request rate.
    const latencyRate = LATENCY_RATE > 0 ? LATENCY_RATE : e2eRate / 2;
    const eventsPerSecond = latencyRate / HOOKS_PER_ACCOUNT;
    await sink.reset({ latency: true });
    const nodeMetrics = async () => (await fetch(`http://127.0.0.1:${node!.port}/metrics`)).text();
    const metricsBefore = await nodeMetrics();
    const latStart = performance.now();
    const pending: Promise<unknown>[] = [];
    let sentEvents = 0;
    const publishedAt = new Map<string, number>(); // event id -> wall clock right before its publish
    while (performance.now() - latStart < LATENCY_SECONDS * 1000) {
      const due = Math.floor(((performance.now() - latStart) / 1000) * eventsPerSecond);
      for (; sentEvents < due; sentEvents++) {
        const e = event(accounts[sentEvents % ACCOUNTS], sentEvents);
        publishedAt.set(e.id, wall());
        pending.push(publishEvent(js, e));
      }
      await sleep(5);
    }
    await Promise.all(pending);
    await sink.waitTotal(sentEvents * HOOKS_PER_ACCOUNT, 120_000);
    const samples = await sink.latencies(publishedAt);
    const lat = samples.map((s) => s.ms).sort((a, b) => a - b);
    if (lat.length < sentEvents * HOOKS_PER_ACCOUNT) throw new Error(`latency: ${lat.length} arrivals matched a publish time, ${sentEvents * HOOKS_PER_ACCOUNT} expected`);
    // Where the time went, from the node's own histograms over the latency phase.
    const metricsAfter = await nodeMetrics();
    const phase = (name: string) => bucketsBetween(histogramBuckets(metricsBefore, name), histogramBuckets(metricsAfter, name));
    const planP50 = bucketQuantile(phase('webhook_fanout_plan_seconds'), 0.5);
    const attemptP50 = bucketQuantile(phase('webhook_delivery_attempt_seconds'), 0.5);
    const tail = latencyTail(samples, SLOW_MS);
    const gc = gcBetween(gcTotals(metricsBefore), gcTotals(metricsAfter));
    const rawSteady = await raw.steady((sentEvents * HOOKS_PER_ACCOUNT) / LATENCY_SECONDS, RAW_LATENCY_SECONDS, webhooks);

    // 4. Rate accuracy: one webhook at 100/s and one at 5/s, each with a backlog of R x RATE_SECONDS.
    await sink.reset();
    await Promise.all(rateHooks.map((h) => publishAll(js, () => h.accountId, h.rate * RATE_SECONDS)));
    await sink.waitPaths(Object.fromEntries(rateHooks.map((h) => [h.path, h.rate * RATE_SECONDS])), RATE_SECONDS * 3000 + 60_000);
    const arrivals = await sink.arrivals(rateHooks.map((h) => h.path));
    const accuracy = rateHooks.map((h) => ({ ...h, ...rateAccuracy(arrivals[h.path]) }));
    const rssEnd = rssMb(nodePid);
    await node.stop();
    node = undefined;

    // 1b. The raw ceiling again, the node stopped (see 1).
    const rawAfter = await rawRun();
    const ceiling = { perSecond: (2 * expected) / (rawBefore.seconds + rawAfter.seconds), seconds: rawBefore.seconds + rawAfter.seconds };
    const rawCpu = { client: (rawBefore.cpu.client + rawAfter.cpu.client) / 2, sink: (rawBefore.cpu.sink + rawAfter.cpu.sink) / 2 };
    const rawCpuTotal = rawCpu.client + rawCpu.sink;
    const rawConnections = rawBefore.connections + rawAfter.connections;

    // 2b. End to end again with every delivery through the deliveries stream (published by fan-out,
    // pulled by the partition's consumer), as in a cluster, where a node fans out mostly for others.
    node = await spawnDeliveryNode('bench-stream', { DELIVERY_FANOUT_CLAIMS: 'false' });
    await node.ready();
    const streamed = await endToEnd(node);
    await node.stop();
    node = undefined;

    // 5. Memory: a fresh node whose index holds MEMORY_WEBHOOKS webhooks, MEMORY_LANES of them busy.
    const memory = MEMORY_WEBHOOKS > 0 ? await memoryPhase(platform, js, sink) : undefined;

    // Report.
    const perDelivery = (ms: number) => f3(ms / expected);
    say(
      `workload: 1 node, ${webhooks} webhooks at rate_limit 100 (${ACCOUNTS} accounts x ${HOOKS_PER_ACCOUNT}), ${r0(EVENTS)} events -> ${r0(expected)} deliveries queued at once`,
    );
    say(
      `raw ceiling     ${r0(ceiling.perSecond)} req/s   (undici, own process, ${CONNECTIONS} connections, signed thin body; ${r0(expected)} requests before the end-to-end run at ${r0(rawBefore.perSecond)}/s and again after it, the node stopped, at ${r0(rawAfter.perSecond)}/s)`,
    );
    say(
      `end to end      ${r0(e2eRate)} deliveries/s   (first publish -> last row SUCCEEDED: ${f2((done - started) / 1000)} s; published in ${f2((published - started) / 1000)} s; last arrival at sink +${f2((sinkStats.last! - started) / 1000)} s; ${duplicates} duplicate sends; ${sinkStats.connections} new TLS connections at the sink, raw runs ${rawConnections})`,
    );
    say(`ratio           ${f2(e2eRate / ceiling.perSecond)} of the raw ceiling`);
    say(
      `CPU per delivery (ms), end to end: ${e2eParts.map((k) => `${k} ${perDelivery(e2eCpu[k])}`).join(', ')}; total ${perDelivery(e2eCpuTotal)}  (${f2(e2eCpuTotal / (done - started))} cores busy; bench driver ${perDelivery(e2eCpu.driver)}, not counted)`,
    );
    say(
      `CPU per request (ms), raw:        client ${perDelivery(rawCpu.client)}, sink ${perDelivery(rawCpu.sink)}; total ${perDelivery(rawCpuTotal)}  (${f2((2 * rawCpuTotal) / (ceiling.seconds * 1000))} cores busy)`,
    );
    say(`CPU ratio       end to end costs ${f2(e2eCpuTotal / rawCpuTotal)} x the raw request`);
    // However the work is spread over threads or processes, the machine's cores bound the rate.
    const cpuBound = (m.cores * 1000 * expected) / e2eCpuTotal;
    say(
      `CPU bound       every core (logical CPU) busy at this CPU per delivery: at most ${r0(cpuBound)} deliveries/s, ${f2(cpuBound / ceiling.perSecond)} of the raw ceiling; reaching 0.6 of the raw ceiling needs at most ${f3((m.cores * 1000) / (0.6 * ceiling.perSecond))} ms per delivery in all`,
    );
    say(
      `through stream  ${r0(streamed.rate)} deliveries/s, ${f2(streamed.rate / ceiling.perSecond)} of the raw ceiling (DELIVERY_FANOUT_CLAIMS=false: every delivery published and pulled, as the share a node fans out for others; ${streamed.duplicates} duplicate sends); CPU per delivery (ms): ${e2eParts.map((k) => `${k} ${perDelivery(streamed.cpu[k])}`).join(', ')}; total ${perDelivery(streamed.cpuTotal)}`,
    );
    // On paper from the stream path: in a cluster of many nodes nearly every delivery takes it.
    say(
      scaleOutLine(
        { node: streamed.cpu.node / expected, nats: streamed.cpu.nats / expected, postgres: (streamed.cpu.postgres + streamed.cpu['postgres shared']) / expected },
        DEFAULT_SIZES,
        'the CPU per delivery through the stream',
      ),
    );
    say(
      `latency at ${r0((sentEvents * HOOKS_PER_ACCOUNT) / LATENCY_SECONDS)} deliveries/s (${LATENCY_RATE > 0 ? 'as asked' : 'half of capacity'}) for ${LATENCY_SECONDS} s: publish-to-delivery p50 ${f2(pct(lat, 50))} ms, p99 ${f2(pct(lat, 99))} ms; raw request at the same rate p50 ${f2(rawSteady.p50)} ms, p99 ${f2(rawSteady.p99)} ms; p50 ratio ${f2(pct(lat, 50) / rawSteady.p50)}`,
    );
    say(
      `latency parts   (the node's histograms over that phase, p50 inside its bucket) fan-out plan, recording included, ${planP50 === undefined ? 'n/a' : `${f2(planP50 * 1000)} ms`}; attempt ${attemptP50 === undefined ? 'n/a' : `${f2(attemptP50 * 1000)} ms`}`,
    );
    const gcText = (kind: string) => `${gc[kind]?.count ?? 0} ${kind} (${r0((gc[kind]?.seconds ?? 0) * 1000)} ms)`;
    say(
      `latency tail    ${f2(tail.share * 100)} % of deliveries over ${SLOW_MS} ms, published in ${tail.windows} of the phase's ${tail.ofWindows} 100-ms windows (few windows: pauses, not a cost every delivery pays); the node's garbage collections meanwhile: ${gcText('major')}, ${gcText('minor')}`,
    );
    for (const a of accuracy) {
      const over =
        a.maxWindow > a.rate
          ? `OVER R: ${a.maxWindow} arrivals within ${r0(a.worstSpanMs)} ms at +${f2(a.worstAtMs / 1000)} s, ${a.worstGapsMs.length <= 10 ? `gaps ${a.worstGapsMs.map(r0).join('/')}` : `smallest gap ${f2(Math.min(...a.worstGapsMs))}`} ms`
          : 'within R';
      say(
        `rate_limit ${String(a.rate).padEnd(3)}    ${a.count} received over ${f2(a.seconds)} s: ${f2(a.steadyPerSecond)}/s steady = ${f2(a.steadyPerSecond / a.rate)} R; worst 1-s window ${a.maxWindow} (${over})`,
      );
    }
    say(`node RSS        ${r0(rssAfterE2e!.rss)} MB after the end-to-end run, ${r0(rssEnd!.rss)} MB at the end of the run (peak ${r0(rssEnd!.peak)} MB)`);
    if (memory) say(memoryLine(memory));
    writeResults(out);
  } finally {
    await closeAll();
  }
}

type MemoryResult = {
  connections: number;
  webhooks: number;
  lanes: number;
  loadSeconds: number;
  rssIdle: number;
  heapIdle: string;
  rssPeak: number;
  rssEnd: number;
  heapEnd: string;
};

/** A fresh node whose index holds MEMORY_WEBHOOKS webhooks, MEMORY_LANES of them busy: its RSS idle, at peak and after. */
async function memoryPhase(platform: TestPlatform, js: JetStreamClient, sink: Awaited<ReturnType<typeof startSinkProcess>>): Promise<MemoryResult> {
  const fill = await fillWebhooksKv({
    js,
    orm: platform.orm,
    dbUrl: platform.db.url,
    sinkUrl: sink.url,
    total: MEMORY_WEBHOOKS,
    lanes: MEMORY_LANES,
    perAccount: HOOKS_PER_ACCOUNT,
  });
  const t = performance.now();
  const node = await spawnDeliveryNode('bench-mem', {});
  try {
    await node.ready(300_000);
    const loadSeconds = (performance.now() - t) / 1000;
    const memPid = node.proc.pid!;
    const rssIdle = rssMb(memPid)!.rss;
    const heapIdle = await heapOf(node.port);
    await sink.reset();
    // Three events per lane account: every lane webhook (rate_limit 1) holds a backlog for a few seconds.
    const perAccount = 3;
    let peak = rssIdle;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(memPid)?.rss ?? 0)), 100);
    await publishAll(js, (i) => fill.accounts[i % fill.accounts.length], fill.accounts.length * perAccount);
    await sink.waitTotal(fill.accounts.length * perAccount * HOOKS_PER_ACCOUNT, 120_000);
    clearInterval(sampler);
    const rssPeak = Math.max(peak, rssMb(memPid)!.peak);
    const rssEnd = rssMb(memPid)!.rss;
    const connections = (await sink.stats()).connections;
    return { connections, webhooks: MEMORY_WEBHOOKS, lanes: MEMORY_LANES, loadSeconds, rssIdle, heapIdle, rssPeak, rssEnd, heapEnd: await heapOf(node.port) };
  } finally {
    await node.stop().catch(() => undefined);
  }
}

/** The node's V8 heap (used / total) and external memory, from its /metrics, in MB. */
async function heapOf(port: number): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const mb = (name: string) => r0(Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20);
  return `heap ${mb('nodejs_heap_size_used_bytes')}/${mb('nodejs_heap_size_total_bytes')} MB, external ${mb('nodejs_external_memory_bytes')} MB`;
}

function memoryLine(m: MemoryResult): string {
  return `memory          ${r0(m.webhooks)} webhooks in the index (loaded in ${f2(m.loadSeconds)} s): RSS ${r0(m.rssIdle)} MB idle (${m.heapIdle}), ${r0(m.rssPeak)} MB peak with ${m.lanes} active lanes (${r0(m.connections)} TLS connections at the sink), ${r0(m.rssEnd)} MB after (${m.heapEnd})`;
}

/** Appends this run to bench/results.md (history is kept; newest last). */
function writeResults(lines: string[]): void {
  appendRun(RESULTS, '', lines, RESULTS_HEADER);
}

const RESULTS_HEADER = `# Benchmark results

Each \`npm run bench\` appends a section (newest last). How the figures are made:

- **Processes.** The HTTPS consumer (\`bench/sink.ts\`) and the raw client (\`bench/raw-client.ts\`) run in
  processes of their own, as do the delivery node and nats-server; PostgreSQL is the machine's server.
  The bench driver (publisher, config service) runs in the parent and is not counted.
- **Raw ceiling.** undici, 64 keep-alive connections, the same signed thin body a node sends (fresh event
  id, Standard Webhooks signature and API key header per request), to the same sink, after a
  warm-up of 1,000 requests. The end-to-end run gets the same: 100 events (1,000 deliveries) first.
- **End to end.** One node, 200 webhooks at rate_limit 100 (20 accounts x 10), 2,000 events published at
  once fanning out to 20,000 deliveries; from the first publish to the moment a poll of \`deliveries\`
  sees every row SUCCEEDED (polled every 20 ms once the sink has all requests).
- **CPU.** utime + stime from \`/proc/<pid>/stat\` at the start and end of each phase, per process:
  the node, nats-server (the test platform's child), the sink, the raw client; PostgreSQL as the
  backends connected to the bench's database (the bench's own polling connection left out) plus,
  apart, the server's shared auxiliary processes (walwriter, checkpointer, ...), which also work
  for anything else using the server at the time. A backend that exits during a phase is lost.
- **Rate accuracy.** One webhook at rate_limit 100 and one at 5, each with a backlog of R x 22 s,
  measured at the sink: the rate without the first and last second, and the most arrivals in any
  one-second window (goal: >= 0.97 R, never over R).
- **Latency.** Events published at a steady rate of half the measured deliveries/s for 10 s;
  publish-to-delivery = arrival at the sink minus the moment the bench published the event (both
  wall clocks of this machine, sub-millisecond; the event's \`time\` has whole milliseconds only,
  so until 2026-11-29 evening this figure read about 0.5 ms high). Raw: request round trip at
  the same rate, open loop, 5 s. "Latency parts": the node's own histograms read before and after
  that phase: the fan-out plan (checking, matching, recording; before any send) and the attempt.
- **CPU bound.** The machine's cores divided by the total CPU per delivery: the most any spread of
  the same work over threads or processes could reach on this machine. When it is under 0.6 of the
  raw ceiling, only less CPU per delivery gets there.
- **Memory.** VmRSS of the node from \`/proc/<pid>/status\`; then a fresh node with 100,000 webhook
  snapshots in the KV bucket (written directly), 1,000 of them (rate_limit 1) given 3 deliveries each.

This is a shared 2-core machine: other work running at the same time (tests, other benches) makes
figures noisy; the load average is printed with every run.
`;

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
