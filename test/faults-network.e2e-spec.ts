// Not on the e2e harness (test/support/harness.ts): it builds its own hosts (network namespaces), a 3-server NATS cluster and a proxied link to PostgreSQL.
import { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { connect, KV, NatsConnection } from 'nats';
import { Pool } from 'pg';
import { createConfigServiceApp } from '../apps/config-service/src/main';
import { MAX_WEBHOOKS_PER_ACCOUNT, objectTypeOf } from '@app/domain';
import { partitionOf } from '@app/hashing';
import {
  CLUSTER_TIMING,
  deliveryConsumer,
  mailboxConsumer,
  FANOUT_CONSUMER,
  KV_DELIVERY_NODES,
  KV_NODE_LEASES,
  KV_PARTITION_OWNERS,
  openNodeLeasesKv,
  openPartitionOwnersKv,
  publishEvent,
  STREAM_DELIVERIES,
  STREAM_EVENTS,
} from '@app/messaging';
import { createAccount, createToken, ormConfig } from '@app/persistence';
import {
  ApiClient,
  createNetLab,
  createTestDatabase,
  doubleSends,
  DoubleSend,
  eventually,
  failoverMs,
  HttpsConsumerProcess,
  listen,
  longestSilenceMs,
  makeTestPki,
  NetHost,
  NetLab,
  netnsUnavailable,
  NetnsNatsCluster,
  NodeProcess,
  RecordedRequest,
  Send,
  spawnDeliveryNode,
  startHttpsConsumerProcess,
  startNetnsNatsCluster,
  startTcpProxy,
  TcpProxy,
  TEST_SECRETS_KEY,
  TestDatabase,
  viaProxy,
  waitForWebhooksInKv,
  worstWindow,
} from '@app/testing';

/**
 * Network faults, on hosts this test builds with network namespaces (libs/testing/src/netns.ts):
 * three delivery nodes and the three servers of a NATS cluster each in a namespace of its own on
 * one bridge; PostgreSQL (root namespace) through a TCP proxy the test controls; the HTTPS consumer
 * in a process and namespace of its own, where it sees which node's address each request came from
 * and stamps arrivals without the test process's own work in the way. Events are
 * published continuously to webhooks with rate limits while each fault runs and heals:
 *
 *   1. one NATS server is partitioned from the other two, with a delivery node connected to it;
 *   2. a delivery node's link goes down (then up);
 *   3. a delivery node loses NATS only (it can still reach PostgreSQL and the consumer);
 *   4. the link to PostgreSQL turns slow (every packet held 400 ms each way) for 20 s.
 *
 * After each: no double send (from the consumer's and from the attempt log's view; see
 * libs/testing/src/netns-analysis.ts), no one-second window over a webhook's rate_limit at the
 * consumer (beyond the jitter allowance below), every event at every webhook and every delivery row
 * SUCCEEDED, ownership settled within the lease TTL plus a margin after the heal.
 * Figures: test-results/netfaults.json. Needs root (it skips, saying why, where namespaces cannot
 * be made).
 */
jest.setTimeout(900_000);

const unavailable = netnsUnavailable();
if (unavailable) process.stdout.write(`network-fault suite skipped: ${unavailable}\n`);
const describeNet = unavailable ? describe.skip : describe;

const P = 16;
const TTL = CLUSTER_TIMING.leaseTtlMs;
/**
 * Ownership settles within the lease TTL plus this once JetStream answers again after a heal (a
 * node's NATS client first notices the dead connection and reconnects, then the partitions move
 * back with the 1.3 s handover gap, and a partition consumer that failed meanwhile starts again
 * within MAX_BACKOFF_MS). Measured here 2-16 s after the heal with the suite alone on the machine,
 * up to 37 s with a second copy of the suite running beside it; 2-5 s since the NATS client pings
 * every 3 s (a link that was down no longer leaves its connection deaf for 10 s and more).
 */
const SETTLE_MARGIN_MS = 15_000;
/**
 * How long JetStream itself may take to answer again after a heal: what our nodes cannot shorten.
 * When a NATS server that was cut from the other two rejoins, nats-server 2.9 re-elects the leaders
 * of the meta group and of most streams and consumers, one by one; measured here 15-35 s, with
 * some partitions' consumers last.
 */
const NATS_ANSWERING_BOUND_MS = 90_000;
/** NETFAULTS_LOG_DIR=<dir>: each nats-server logs there, and each node's output is written there after each fault settles. */
const LOG_DIR = process.env.NETFAULTS_LOG_DIR ? resolve(process.env.NETFAULTS_LOG_DIR) : undefined;
/**
 * Sends are paced 1.1/rate s apart and checked against a 1.1 s sliding log at the moment a send
 * starts, which keeps every consumer-side second within the limit while arrivals jitter by up to
 * 100 ms. On this shared 2-core machine they jitter more: the consumer has seen pairs of one node's
 * requests for one webhook arrive within 1 ms of each other, and 1-2 requests over the limit in a
 * second (limit 8). Two senders at once would give about twice the limit, which this still catches;
 * the exact counts are in the figures (windows_over_limit, worst_window_vs_limit).
 */
const windowAllowance = (rateLimit: number) => Math.max(1, Math.ceil(rateLimit / 4));
const EVENTS_PER_SECOND = 3; // each to every webhook
const RATES = [8, 12, 20];
const TYPE = 'identity.approved';
const NODE_IDS = ['node1', 'node2', 'node3'];

interface ClusterView {
  nodes: Array<{ node: string; delivering: number[] }>;
  partition_leases: Array<{ partition: number; owner: string | null }>;
  unowned_partitions: number[];
  stalled_partitions: number[];
}

interface Hook {
  id: string;
  account: string;
  path: string;
  partition: number;
  rateLimit: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeNet('network faults under load (namespaces, a 3-server NATS cluster, 3 delivery nodes)', () => {
  let lab: NetLab;
  let natsHosts: NetHost[];
  let nodeHosts: NetHost[];
  let nats: NetnsNatsCluster;
  let db: TestDatabase;
  let orm: MikroORM;
  let pool: Pool;
  let pgProxy: TcpProxy;
  let consumer: HttpsConsumerProcess;
  let config: INestApplication;
  let op: ApiClient;
  let nc: NatsConnection;
  const hooks: Hook[] = [];
  const nodes = new Map<string, NodeProcess>();
  const nodeEnv = new Map<string, Record<string, string>>();
  /**
   * account -> events published for it (stored in the stream) in the running phase. Each phase
   * answers for its own events, so a loss is reported by the phase that caused it and no other.
   */
  const published = new Map<string, string[]>();
  let eventsSoFar = 0;
  const figures: Record<string, Record<string, unknown>> = {};
  let closing = false;

  beforeAll(async () => {
    lab = createNetLab();
    natsHosts = ['nats1', 'nats2', 'nats3'].map((n) => lab.host(n));
    nodeHosts = NODE_IDS.map((n) => lab.host(n));
    if (LOG_DIR) mkdirSync(LOG_DIR, { recursive: true });
    nats = await startNetnsNatsCluster(natsHosts, { logDir: LOG_DIR });
    db = await createTestDatabase();
    pgProxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(db.url).port || 5432) }, { listenHost: lab.rootAddress });
    const consumerHost = lab.host('consumer');
    const pki = makeTestPki(undefined, [consumerHost.address]);
    consumer = await startHttpsConsumerProcess({ certFile: pki.certFile, keyFile: pki.keyFile, host: consumerHost });

    // The test's own clients talk to nats2 and nats3 only, so partitioning nats1 leaves them working.
    const majority = nats.servers.slice(1).map((s) => s.url);
    const common = {
      SECRETS_KEY: TEST_SECRETS_KEY,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
      DELIVERY_ALLOW_PRIVATE_NETWORKS: 'true',
      DELIVERY_CA_FILE: pki.caFile,
      DELIVERY_PARTITIONS: String(P),
      // A task lost in a NATS fault is found by the reconciler; 10 s instead of 2 min keeps that
      // within the phase (a phase waits at most 4 min for its events).
      DELIVERY_RECONCILE_AFTER_MS: '10000',
      // Events a consumer moved past are fanned out by the audit within a pass.
      FANOUT_AUDIT_INTERVAL_MS: '2000',
      NATS_REPLICAS: '3',
    };
    Object.assign(process.env, common, { DATABASE_URL: db.url, NATS_URL: majority.join(',') });
    orm = await MikroORM.init(ormConfig(db.url, { poolMax: 2 }));
    pool = new Pool({ connectionString: db.url, max: 2 });
    config = await createConfigServiceApp();
    const api = new ApiClient(await listen(config));
    const tenant = async (name: string) => {
      const { account_id } = await createAccount(orm.em.fork(), name);
      published.set(account_id, []);
      return { accountId: account_id, dev: api.as((await createToken(orm.em.fork(), account_id, 'dev', ['developer'])).token) };
    };
    const tenants = [await tenant('netfaults-0')];
    op = api.as((await createToken(orm.em.fork(), tenants[0].accountId, 'ops', ['operator'])).token);
    nc = await connect({ servers: majority, maxReconnectAttempts: -1, reconnectTimeWait: 250, ignoreClusterUpdates: true });

    // Node i starts on NATS server i (it learns the others from the cluster), so a partitioned
    // server has a delivery node on it; every node reaches PostgreSQL through the proxy.
    NODE_IDS.forEach((id, i) => nodeEnv.set(id, { ...common, DATABASE_URL: viaProxy(db.url, pgProxy), NATS_URL: nats.servers[i].url }));
    for (const id of NODE_IDS) await startNode(id);
    await Promise.all([...nodes.values()].map((n) => n.ready(90_000)));
    const view = await settled(Date.now(), 90_000);

    // Webhooks until every node owns at least two of them (rate limits 8, 12, 20 in turn), in as
    // many accounts as that takes (an account holds at most MAX_WEBHOOKS_PER_ACCOUNT).
    const ownerOfHook = (h: Hook) => view.view.partition_leases[h.partition].owner;
    while (hooks.length < 30 && (hooks.length < 6 || NODE_IDS.some((n) => hooks.filter((h) => ownerOfHook(h) === n).length < 2))) {
      const path = `/hook-${hooks.length}`;
      const rateLimit = RATES[hooks.length % RATES.length];
      let t = tenants[tenants.length - 1];
      if (hooks.filter((h) => h.account === t.accountId).length >= MAX_WEBHOOKS_PER_ACCOUNT) tenants.push((t = await tenant(`netfaults-${tenants.length}`)));
      const res = await t.dev.post('/v2/webhooks', {
        name: `hook ${hooks.length}`,
        url: `${consumer.url}${path}`,
        auth_type: 'API_KEY',
        api_key: { header: 'X-Key', key: 'key-0123456789' },
        event_types: ['identity.*'],
        rate_limit: rateLimit,
      });
      expect(res.status).toBe(201);
      hooks.push({ id: res.body.id, account: t.accountId, path, partition: partitionOf(res.body.id, P), rateLimit });
    }
    await waitForWebhooksInKv(
      nc,
      hooks.map((h) => h.id),
    );
  });

  afterAll(async () => {
    closing = true;
    if (Object.keys(figures).length) {
      mkdirSync('test-results', { recursive: true });
      writeFileSync('test-results/netfaults.json', JSON.stringify(figures, null, 2));
      const rows = Object.entries(figures).map(
        ([fault, f]) =>
          `  ${fault}: failover ${f.failover_ms ?? '-'} ms, settled ${f.settled_after_heal_ms ?? '-'} ms after heal (JetStream answering again after ${f.jetstream_answering_after_heal_ms ?? '-'} ms), double sends ${f.double_sends}, webhooks with a second over the limit ${f.windows_over_limit}, events recovered by the fan-out audit ${f.events_recovered_by_audit}`,
      );
      process.stdout.write(`network faults (test-results/netfaults.json):\n${rows.join('\n')}\n`);
    }
    try {
      for (const h of [...(nodeHosts ?? []), ...(natsHosts ?? [])]) {
        h.linkUp();
        h.unblock([...(natsHosts ?? []), ...(nodeHosts ?? [])].map((x) => x.address));
      }
      pgProxy?.setDelay(0);
    } catch {
      /* the lab may not exist */
    }
    await Promise.allSettled([...nodes.values()].map((n) => n.stop(15_000)));
    await nc?.close().catch(() => undefined);
    await config?.close().catch(() => undefined);
    await consumer?.close();
    await pgProxy?.close();
    await pool?.end();
    await orm?.close(true);
    await nats?.dispose();
    await db?.drop();
    lab?.close();
  });

  async function startNode(id: string): Promise<NodeProcess> {
    const host = nodeHosts[NODE_IDS.indexOf(id)];
    const node = await spawnDeliveryNode(id, nodeEnv.get(id)!, { host, echo: process.env.NETFAULTS_ECHO === '1' });
    nodes.set(id, node);
    return node;
  }

  /** Events the fan-out audits fanned out since the last call (their counters; a restarted node's starts again); null when a node's metrics did not answer. */
  let recoveredSoFar = 0;
  async function recoveredInPhase(): Promise<number | null> {
    let total = 0;
    for (const [id, node] of nodes) {
      const text = await fetch(`http://${nodeHosts[NODE_IDS.indexOf(id)].address}:${node.port}/metrics`, { signal: AbortSignal.timeout(5000) })
        .then((r) => r.text())
        .catch(() => '');
      const count = /^webhook_events_recovered_total (\d+)/m.exec(text)?.[1];
      if (count === undefined) return null;
      total += Number(count);
    }
    const phase = Math.max(0, total - recoveredSoFar);
    recoveredSoFar = total;
    return phase;
  }

  const nodeOfAddress = (addr: string) => NODE_IDS[nodeHosts.findIndex((h) => h.address === addr.replace(/^::ffff:/, ''))] ?? `?${addr}`;
  const pathOf = new Map<string, Hook>();
  const hookByPath = (p: string) => (pathOf.size ? pathOf : (hooks.forEach((h) => pathOf.set(h.path, h)), pathOf)).get(p);

  /** Every request the consumer got, as (webhook, node by source address, arrival). */
  const consumerSends = (reqs: RecordedRequest[]): Send[] =>
    reqs.filter((r) => hookByPath(r.path)).map((r) => ({ webhook: hookByPath(r.path)!.id, node: nodeOfAddress(r.remoteAddress), at: r.receivedAt }));

  /** Every attempt on record, as (webhook, node_id, when the node recorded it). */
  async function attemptSends(): Promise<Send[]> {
    const rows = (
      await pool.query<{ webhook_id: string; node_id: string; at: number }>(`select webhook_id, node_id, extract(epoch from created_at) * 1000 as at from delivery_attempts`)
    ).rows;
    return rows.map((r) => ({ webhook: r.webhook_id, node: r.node_id, at: Number(r.at) }));
  }

  /**
   * When JetStream answered again for good after a heal: from then on, every partition's consumer
   * (partition routing), every node's mailbox consumer (node routing) and every stream the nodes use had a leader (an info request got an answer, 'not found'
   * included). A rejoining NATS server unsettles leaders a few seconds after the heal, not at once,
   * so this watches until told to stop (and JetStream answers), and returns the end of the last gap
   * in ms after `since`: 0 when JetStream never stopped answering (the faults that leave the NATS
   * cluster whole).
   */
  function watchJetStream(since: number): { stop(): Promise<number> } {
    let stopped = false;
    let answeringSince = since;
    const watching = (async () => {
      const jsm = await nc.jetstreamManager({ timeout: 2000, checkAPI: false });
      const answers = (ask: Promise<unknown>) =>
        ask.then(
          () => true,
          (err: Error) => /not found/i.test(err.message),
        );
      const streams = [STREAM_EVENTS, STREAM_DELIVERIES, ...[KV_DELIVERY_NODES, KV_NODE_LEASES, KV_PARTITION_OWNERS].map((b) => `KV_${b}`)];
      // A gap is two rounds in a row with a request unanswered: one slow answer on this loaded machine is not one.
      let failedRounds = 0;
      while (!stopped || failedRounds > 0) {
        const all = (
          await Promise.all([
            ...streams.map((st) => answers(jsm.streams.info(st))),
            ...Array.from({ length: P }, (_, p) => answers(jsm.consumers.info(STREAM_DELIVERIES, deliveryConsumer(p)))),
            ...NODE_IDS.map((id) => answers(jsm.consumers.info(STREAM_DELIVERIES, mailboxConsumer(id)))),
          ])
        ).every(Boolean);
        if (all && failedRounds >= 2) answeringSince = Date.now();
        failedRounds = all ? 0 : failedRounds + 1;
        if (failedRounds && Date.now() - since > NATS_ANSWERING_BOUND_MS)
          throw new Error(`JetStream not answering for every stream and partition consumer ${NATS_ANSWERING_BOUND_MS} ms after the heal`);
        await sleep(250);
      }
      return answeringSince - since;
    })();
    watching.catch(() => undefined); // read by stop()
    return {
      stop: async () => {
        stopped = true;
        return watching;
      },
    };
  }

  async function clusterView(): Promise<ClusterView> {
    const res = await op.get('/v2/cluster');
    if (res.status !== 200) throw new Error(`GET /v2/cluster answered ${res.status}`);
    return res.body;
  }

  /**
   * Ownership settled: all three nodes present, every partition leased and delivered by its lease
   * holder alone, every node delivering some, no partition whose consumer keeps failing, and the
   * same owners for 3 s. Returns when that stretch began.
   */
  async function settled(since: number, timeoutMs: number): Promise<{ view: ClusterView; atMs: number }> {
    let stable: { key: string; from: number; view: ClusterView } | undefined;
    let last: ClusterView | undefined;
    return eventually(
      async () => {
        const v = (last = await clusterView());
        const ok =
          v.nodes.length === NODE_IDS.length &&
          !v.unowned_partitions.length &&
          v.nodes.every((n) => n.delivering.length > 0) &&
          !v.stalled_partitions.length &&
          v.partition_leases.every(
            (l) =>
              l.owner &&
              v.nodes
                .filter((n) => n.delivering.includes(l.partition))
                .map((n) => n.node)
                .join() === l.owner,
          );
        if (!ok) return ((stable = undefined), false);
        const key = JSON.stringify(v.partition_leases.map((l) => l.owner));
        if (stable?.key !== key) stable = { key, from: Date.now(), view: v };
        return Date.now() - stable.from >= 3000 && { view: stable.view, atMs: stable.from - since };
      },
      { timeoutMs, intervalMs: 200, what: 'ownership settled over all three nodes' },
    ).catch(async (err: Error) => {
      // What was still off, for the one reading the failure: the view, the raw keys, the nodes' logs.
      const off = last?.partition_leases
        .map((l) => ({ partition: l.partition, owner: l.owner, delivering: last!.nodes.filter((n) => n.delivering.includes(l.partition)).map((n) => n.node) }))
        .filter((x) => !x.owner || x.delivering.join() !== x.owner);
      const js = nc.jetstream();
      const [leases, owners] = await Promise.all([openNodeLeasesKv(js, 3), openPartitionOwnersKv(js, 3)]);
      const raw = async (kv: KV, key: string) => (await kv.get(key).catch(() => null))?.string() ?? null;
      const keys = { leases: await Promise.all(NODE_IDS.map((n) => raw(leases, n))), owners: await Promise.all((off ?? []).map((x) => raw(owners, String(x.partition)))) };
      for (const [id, n] of nodes) console.log(`${id}:\n${n.output().slice(-6000)}`);
      throw new Error(`${err.message}; nodes ${JSON.stringify(last?.nodes.map((n) => n.node))}, partitions off: ${JSON.stringify(off)}; keys ${JSON.stringify(keys)}`);
    }) as Promise<{ view: ClusterView; atMs: number }>;
  }

  /** Publishes EVENTS_PER_SECOND events per account until stopped; each is retried until stored (same id: stored once). */
  function load(): { stop(): Promise<void> } {
    let running = true;
    const inFlight = new Set<Promise<void>>();
    const publishOne = async (accountId: string) => {
      const event = { id: randomUUID(), account_id: accountId, type: TYPE, time: new Date().toISOString(), object_type: objectTypeOf(TYPE)!, object: { identity_id: 'i-1' } };
      for (;;) {
        try {
          await publishEvent(nc.jetstream(), event);
          published.get(accountId)!.push(event.id);
          eventsSoFar++;
          return;
        } catch {
          if (closing) return;
          await sleep(200);
        }
      }
    };
    const timer = setInterval(() => {
      if (!running || closing) return clearInterval(timer);
      for (const account of published.keys()) {
        for (let i = 0; i < EVENTS_PER_SECOND; i++) {
          const p = publishOne(account).finally(() => inFlight.delete(p));
          inFlight.add(p);
        }
      }
    }, 1000);
    return {
      async stop() {
        running = false;
        clearInterval(timer);
        while (inFlight.size) await Promise.all([...inFlight]);
      },
    };
  }

  /** Nodes that owned at least one of the webhooks' partitions, most first. */
  async function ownersOfHooks(): Promise<string[]> {
    const v = await clusterView();
    const count = (n: string) => hooks.filter((h) => v.partition_leases[h.partition].owner === n).length;
    return [...NODE_IDS].sort((a, b) => count(b) - count(a)).filter((n) => count(n) > 0);
  }

  /**
   * The fault's aftermath: everything delivered, every row SUCCEEDED, and the figures; asserts
   * no double send, no window over a rate limit, settled in time.
   */
  async function verify(
    fault: string,
    f: { from: string[]; faultAt: number; healAt: number; natsAnsweringMs: number; settled: { atMs: number }; expectFailover: boolean },
  ): Promise<void> {
    let reqs: RecordedRequest[] = [];
    const missing = () => {
      const got = new Map<string, Set<string>>();
      for (const r of reqs) got.set(r.path, (got.get(r.path) ?? new Set()).add(r.webhookId));
      return hooks.flatMap((h) =>
        published
          .get(h.account)!
          .filter((id) => !got.get(h.path)?.has(id))
          .map((event) => ({ hook: h, event })),
      );
    };
    await eventually(
      async () => {
        reqs = await consumer.requests();
        return missing().length === 0;
      },
      { timeoutMs: 240_000, intervalMs: 500, what: `every event at every webhook after: ${fault}` },
    ).catch(async (err) => {
      await reportMissing(fault, missing());
      throw err;
    });
    const expectedRows = hooks.reduce((n, h) => n + published.get(h.account)!.length, 0);
    await eventually(
      async () => {
        const ids = [...new Set([...published.values()].flat())];
        const rows = (await pool.query(`select status, count(*)::int as n from deliveries where event_id = any($1::uuid[]) group by status`, [ids])).rows;
        return rows.length === 1 && rows[0].status === 'SUCCEEDED' && rows[0].n === expectedRows && rows;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: `every delivery row SUCCEEDED after: ${fault}` },
    );

    reqs = await consumer.requests();
    const fromConsumer = consumerSends(reqs);
    const fromLog = (await eventually(
      async () => {
        const s = await attemptSends();
        return s.length >= fromConsumer.length && s;
      },
      { timeoutMs: 60_000, what: 'every request in the attempt log' },
    )) as Send[];
    const inPhase = (d: DoubleSend) => d.then.at >= f.faultAt - 5000;
    const doubleConsumer = doubleSends(fromConsumer).filter(inPhase);
    const doubleLog = doubleSends(fromLog).filter(inPhase);
    const windows = hooks.map((h) => ({ h, w: worstWindow(reqs.filter((r) => r.path === h.path).map((r) => r.receivedAt)) }));
    const over = windows.filter(({ h, w }) => w.count > h.rateLimit);
    const received = new Map<string, number>();
    for (const r of reqs) received.set(`${r.path} ${r.webhookId}`, (received.get(`${r.path} ${r.webhookId}`) ?? 0) + 1);
    const failover = failoverMs(fromConsumer, f.from, f.faultAt);
    figures[fault] = {
      nodes_cut: f.from,
      fault_lasted_ms: f.healAt - f.faultAt,
      failover_ms: failover ?? null,
      longest_silence_ms: longestSilenceMs(fromConsumer, f.faultAt, f.healAt + f.settled.atMs),
      settled_after_heal_ms: f.settled.atMs,
      jetstream_answering_after_heal_ms: f.natsAnsweringMs,
      settled_after_jetstream_ms: f.settled.atMs - f.natsAnsweringMs,
      settle_bound_ms: TTL + SETTLE_MARGIN_MS,
      double_sends: doubleConsumer.length,
      double_sends_attempt_log: doubleLog.length,
      windows_over_limit: over.length,
      worst_window_vs_limit: windows.map(({ h, w }) => `${w.count}/${h.rateLimit}`).join(' '),
      repeated_deliveries: [...received.values()].filter((n) => n > 1).length,
      events_recovered_by_audit: await recoveredInPhase(),
      events_in_phase: [...published.values()].reduce((n, ids) => n + ids.length, 0),
      events_so_far: eventsSoFar,
      requests_so_far: reqs.length,
    };
    const farOver = windows.filter(({ h, w }) => w.count > h.rateLimit + windowAllowance(h.rateLimit));
    for (const { h, w } of farOver) {
      const t0 = f.faultAt;
      const seen = new Map<string, number>();
      const inWindow = reqs
        .filter((r) => r.path === h.path && r.receivedAt >= w.at - 3000 && r.receivedAt < w.at + 2000)
        .map(
          (r) =>
            `${r.receivedAt - t0 >= 0 ? '+' : ''}${r.receivedAt - t0} ${nodeOfAddress(r.remoteAddress)} ${r.webhookId.slice(0, 8)}${seen.set(r.webhookId, (seen.get(r.webhookId) ?? 0) + 1).get(r.webhookId)! > 1 ? ' (again)' : ''}`,
        );
      process.stdout.write(`${fault}: ${h.path} (limit ${h.rateLimit}, partition ${h.partition}) around its worst second, ms after the fault: ${inWindow.join(', ')}\n`);
    }
    if (doubleConsumer.length || doubleLog.length)
      process.stdout.write(`${fault}: double sends ${JSON.stringify({ consumer: doubleConsumer.slice(0, 5), attempt_log: doubleLog.slice(0, 5) })}\n`);
    expect(doubleConsumer).toEqual([]);
    expect(doubleLog).toEqual([]);
    expect(farOver.map(({ h, w }) => `${h.path}: ${w.count} in the second from ${new Date(w.at).toISOString()} (limit ${h.rateLimit})`)).toEqual([]);
    // Our part: from JetStream answering again (at once, unless the fault was inside NATS).
    expect(f.settled.atMs - f.natsAnsweringMs).toBeLessThanOrEqual(TTL + SETTLE_MARGIN_MS);
    if (f.expectFailover) expect(failover).toBeDefined();
  }

  /** What the platform knows of deliveries that never arrived: their rows, attempts and partitions' consumers. */
  async function reportMissing(fault: string, lost: Array<{ hook: Hook; event: string }>): Promise<void> {
    const sample = lost.slice(0, 20);
    const rows = (
      await pool.query(
        `select d.event_id, d.webhook_id, d.partition, d.status, d.next_attempt_at, d.attempts, d.last_error, d.created_at
         from deliveries d join unnest($1::uuid[], $2::uuid[]) as v(event_id, webhook_id) on d.event_id = v.event_id and d.webhook_id = v.webhook_id`,
        [sample.map((m) => m.event), sample.map((m) => m.hook.id)],
      )
    ).rows;
    const partitions = [...new Set(sample.map((m) => m.hook.partition))];
    const jsm = await nc.jetstreamManager();
    const consumers = await Promise.all(
      [...partitions.map((p) => ({ p, name: deliveryConsumer(p) })), ...NODE_IDS.map((id) => ({ p: id, name: mailboxConsumer(id) }))].map(async ({ p, name }) => {
        const info = await jsm.consumers.info(STREAM_DELIVERIES, name).catch((e: Error) => e.message);
        return typeof info === 'string'
          ? { p, info }
          : { p, pending: info.num_pending, ack_pending: info.num_ack_pending, redelivered: info.num_redelivered, waiting: info.num_waiting, leader: info.cluster?.leader };
      }),
    );
    const events = (await pool.query(`select count(*)::int as n from events where id = any($1::uuid[])`, [sample.map((m) => m.event)])).rows[0].n;
    const fanout = await jsm.consumers.info(STREAM_EVENTS, FANOUT_CONSUMER).then(
      (i) => ({ pending: i.num_pending, ack_pending: i.num_ack_pending, waiting: i.num_waiting, delivered: i.delivered, ack_floor: i.ack_floor, leader: i.cluster?.leader }),
      (e: Error) => e.message,
    );
    const stream = await jsm.streams.info(STREAM_EVENTS).then(
      (i) => ({ first_seq: i.state.first_seq, last_seq: i.state.last_seq, messages: i.state.messages, leader: i.cluster?.leader }),
      (e: Error) => e.message,
    );
    const view = await clusterView().catch((e: Error) => e.message);
    process.stdout.write(
      `${fault}: ${lost.length} deliveries never arrived; ${events} of the ${sample.length} sampled events recorded; events stream ${JSON.stringify(stream)}; fan-out consumer ${JSON.stringify(fanout)}; sample rows ${JSON.stringify(rows)}; their partitions' consumers ${JSON.stringify(consumers)}; cluster ${JSON.stringify(view)}\n`,
    );
  }

  /** Runs load, lets it flow, applies the fault for `holdMs`, heals, waits for settling, verifies. */
  async function underLoad(fault: string, opts: { cut: string[]; holdMs: number; apply(): void; heal(): void; expectFailover: boolean }): Promise<void> {
    for (const ids of published.values()) ids.length = 0;
    const l = load();
    try {
      await sleep(4000);
      const faultAt = Date.now();
      let healAt: number;
      try {
        opts.apply();
        await sleep(opts.holdMs);
      } finally {
        opts.heal();
        healAt = Date.now();
      }
      const jetStream = watchJetStream(healAt);
      let s: Awaited<ReturnType<typeof settled>>;
      try {
        s = await settled(healAt, NATS_ANSWERING_BOUND_MS + TTL + SETTLE_MARGIN_MS + 30_000);
      } finally {
        void jetStream.stop().catch(() => undefined);
      }
      const natsAnsweringMs = await jetStream.stop();
      if (LOG_DIR) for (const [id, n] of nodes) writeFileSync(join(LOG_DIR, `${fault.replace(/\W+/g, '-')}.${id}.log`), n.output());
      await sleep(2000);
      await l.stop();
      await verify(fault, { from: opts.cut, faultAt, healAt, natsAnsweringMs, settled: s, expectFailover: opts.expectFailover });
    } finally {
      await l.stop();
    }
  }

  /**
   * On the CI machine this case twice lost events before fan-out: stored in the EVENTS stream, the
   * `fanout` consumer past them, never recorded. The fan-out audit now finds such events; the
   * phase's figures count what it recovered (`events_recovered_by_audit`).
   */
  it('one NATS server partitioned from the other two for 20 s, with a delivery node connected to it', async () => {
    const [isolated, ...rest] = nats.servers;
    const onIt = (await isolated.clientNames()).filter((n) => NODE_IDS.includes(n));
    expect(onIt.length).toBeGreaterThan(0); // node1 was started on it
    await underLoad('NATS server partitioned 20 s', {
      cut: onIt,
      holdMs: 20_000,
      apply: () =>
        lab.partition(
          [isolated.host],
          rest.map((s) => s.host),
        ),
      heal: () =>
        lab.heal(
          [isolated.host],
          rest.map((s) => s.host),
        ),
      // Not asserted: every node's renewals may time out while the majority elects new leaders, and the
      // cut node may then be the first to deliver again after the heal (measured, not required).
      expectFailover: false,
    });
  });

  it("a delivery node's link goes down for 15 s, then comes back", async () => {
    const victim = (await ownersOfHooks())[0];
    const host = nodeHosts[NODE_IDS.indexOf(victim)];
    await underLoad('node link down 15 s', { cut: [victim], holdMs: 15_000, apply: () => host.linkDown(), heal: () => host.linkUp(), expectFailover: true });
  });

  it('a delivery node cut from NATS only for 15 s, still reaching PostgreSQL and the consumer', async () => {
    const victim = (await ownersOfHooks())[0];
    const host = nodeHosts[NODE_IDS.indexOf(victim)];
    const natsAddresses = natsHosts.map((h) => h.address);
    await underLoad('node cut from NATS only 15 s', {
      cut: [victim],
      holdMs: 15_000,
      apply: () => host.block(natsAddresses),
      heal: () => host.unblock(natsAddresses),
      expectFailover: true,
    });
  });

  it('the link to PostgreSQL slow (400 ms each way) for 20 s', async () => {
    await underLoad('PostgreSQL link slow 20 s', { cut: [], holdMs: 20_000, apply: () => pgProxy.setDelay(400), heal: () => pgProxy.setDelay(0), expectFailover: false });
  });
});
