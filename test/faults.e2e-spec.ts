import { mkdirSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { NatsConnection } from 'nats';
import { publishEvent } from '@app/messaging';
import {
  eventually,
  HttpsConsumer,
  NodeProcess,
  spawnDeliveryNode,
  startNatsCluster,
  startTcpProxy,
  TcpProxy,
  TestNatsCluster,
  testEvent,
  TestPlatform,
  viaProxy,
} from '@app/testing';
import { useHarness } from './support/harness';

jest.setTimeout(600_000);

const TYPE = 'identity.approved';
const RATE = 40; // events per second published during each fault, per account

/**
 * Faults under load, with real processes: two delivery node processes, a 3-server NATS cluster
 * (replicated streams), Postgres behind a TCP proxy the test controls, a real HTTPS consumer.
 * Each fault runs while two tenants publish steadily; after it, every event must reach every
 * subscribed webhook and every delivery row must end SUCCEEDED. Figures: test-results/faults.json.
 */
describe('faults under load', () => {
  let cluster: TestNatsCluster;
  let proxy: TcpProxy;
  beforeAll(async () => {
    cluster = await startNatsCluster(3);
  });
  const h = useHarness({
    env: () => ({ DELIVERY_PARTITIONS: '8', NATS_URL: cluster.url, NATS_REPLICAS: '3', DELIVERY_RECONCILE_AFTER_MS: '5000' }),
    consumer: () => ({ status: 200, body: 'ok', delayMs: consumerDelayMs }),
    // Every app reaches Postgres through a proxy the test controls; the test's own queries go direct.
    async prepare(h) {
      proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(h.platform.db.url).port || 5432) });
      h.onClose(() => proxy.close());
      process.env.DATABASE_URL = viaProxy(h.platform.db.url, proxy);
    },
    config: true,
    nats: () => ({ servers: cluster.url.split(','), maxReconnectAttempts: -1, reconnectTimeWait: 250 }),
  });
  afterAll(async () => {
    await cluster?.dispose(); // after the harness has closed everything that used it (after-hooks run in declaration order)
  });
  let platform: TestPlatform;
  let consumer: HttpsConsumer;
  let nc: NatsConnection;
  const nodes: NodeProcess[] = [];
  const published = new Map<string, string[]>(); // account -> event ids
  const hooksOf = new Map<string, string[]>(); // account -> consumer paths
  const figures: Record<string, unknown> = {};
  let sql: (text: string, params?: unknown[]) => Promise<any[]>;
  let consumerDelayMs = 0;
  let closing = false; // set at close: publishers give up instead of retrying forever

  beforeAll(async () => {
    ({ platform, consumer, nc } = h);
    sql = (text, params = []) => platform.sql(text, params);
    h.onClose(() => proxy.restore());
    h.onClose(() => Promise.allSettled(nodes.map((n) => n.stop(15_000))));
    h.onClose(() => {
      closing = true; // publishers give up instead of retrying forever
      mkdirSync('test-results', { recursive: true });
      writeFileSync('test-results/faults.json', JSON.stringify(figures, null, 2));
      process.stdout.write(`faults: ${JSON.stringify(figures)}\n`);
    });
    for (const [name, paths] of [
      ['tenant-a', ['/a1', '/a2']],
      ['tenant-b', ['/b1']],
    ] as const) {
      const { accountId, dev } = await h.tenant(name);
      await h.webhooksAt(dev, [...paths], { eventTypes: ['identity.*'] });
      published.set(accountId, []);
      hooksOf.set(accountId, [...paths]);
    }
    for (const id of ['fault-1', 'fault-2']) nodes.push(await spawnDeliveryNode(id, {}));
    await Promise.all(nodes.map((n) => n.ready()));
  });

  /** Publishes RATE events per second per account until stopped; each publish is retried until stored. */
  function load(): { stop(): Promise<void> } {
    let running = true;
    const inFlight = new Set<Promise<void>>();
    const publishOne = async (account: string) => {
      const event = testEvent(account, randomUUID(), TYPE, { n: 1 });
      for (;;) {
        try {
          await publishEvent(nc.jetstream(), event); // same Nats-Msg-Id on a retry: stored once
          published.get(account)!.push(event.id);
          return;
        } catch {
          if (closing) return;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };
    const timer = setInterval(() => {
      if (!running || closing) return clearInterval(timer);
      for (const account of published.keys()) {
        for (let i = 0; i < RATE / 10; i++) {
          const p = publishOne(account).finally(() => inFlight.delete(p));
          inFlight.add(p);
        }
      }
    }, 100);
    return (activeLoad = {
      async stop() {
        running = false;
        clearInterval(timer);
        while (inFlight.size) await Promise.all([...inFlight]);
      },
    });
  }
  let activeLoad: { stop(): Promise<void> } | undefined;

  // A fault test that fails must not poison the next: its load stops, Postgres is reachable again,
  // and a node that died is replaced.
  afterEach(async () => {
    await activeLoad?.stop();
    activeLoad = undefined;
    proxy.restore();
    for (let i = 0; i < nodes.length; i++) {
      if (!nodes[i].exited) continue;
      nodes[i] = await spawnDeliveryNode(`fault-${i + 1}`, {});
      await nodes[i].ready();
    }
  });

  /** Every published event reached every subscribed webhook, and every delivery row ended SUCCEEDED. */
  async function everythingArrived(fault: string, started: number): Promise<void> {
    await eventually(
      () => {
        for (const [account, ids] of published) {
          for (const path of hooksOf.get(account)!) {
            const got = h.received(path);
            if (!ids.every((id) => got.has(id))) return false;
          }
        }
        return true;
      },
      { timeoutMs: 240_000, intervalMs: 500, what: `every event at every webhook after: ${fault}` },
    );
    const expectedRows = [...published].reduce((n, [account, ids]) => n + ids.length * hooksOf.get(account)!.length, 0);
    await eventually(
      async () => {
        const rows = await sql(`select status, count(*)::int as n from deliveries group by status`);
        return rows.length === 1 && rows[0].status === 'SUCCEEDED' && rows[0].n === expectedRows;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: `every delivery row SUCCEEDED after: ${fault}` },
    );
    // Never crossed tenants; duplicates carry the same webhook-id.
    for (const [account, ids] of published) {
      const mine = new Set(ids);
      for (const path of hooksOf.get(account)!) expect([...h.received(path)].every((id) => mine.has(id))).toBe(true);
    }
    expect(consumer.requests.every((r) => r.headers['webhook-id'] === JSON.parse(r.body).id)).toBe(true);
    const dup = (await sql(`select count(*)::int as n from delivery_attempts where success`))[0].n - expectedRows;
    // Nothing recorded twice: every extra success on record is an extra send the consumer really got.
    expect(dup).toBeLessThanOrEqual(consumer.requests.length - expectedRows);
    figures[fault] = {
      events: [...published.values()].reduce((n, ids) => n + ids.length, 0),
      delivery_rows: expectedRows,
      requests: consumer.requests.length,
      duplicate_sends: consumer.requests.length - expectedRows,
      duplicate_success_records: dup,
      drained_after_ms: Date.now() - started,
    };
  }

  const health = (n: NodeProcess) =>
    fetch(`http://127.0.0.1:${n.port}/health`).then(
      (r) => r.status,
      () => 0,
    );
  /** For a failure message: which nodes have exited, and the last lines they wrote. */
  const describeExits = () =>
    nodes
      .filter((n) => n.exited)
      .map((n) => `\n${n.id} exited (${n.proc.exitCode ?? n.proc.signalCode}):\n${n.output().slice(-1500)}`)
      .join('');
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('a NATS server of three killed (SIGKILL) under load, then restarted', async () => {
    const l = load();
    await sleep(3000);
    await cluster.servers[0].stop(true);
    await sleep(10_000);
    await cluster.servers[0].restart();
    await sleep(3000);
    await l.stop();
    await everythingArrived('nats server killed', Date.now());
  });

  it('Postgres unreachable for 30 s under load: nodes go unready, pause, and recover by themselves', async () => {
    const l = load();
    await sleep(3000);
    proxy.cut('refuse');
    const cutAt = Date.now();
    try {
      await eventually(
        async () => {
          const seen = await Promise.all(nodes.map(health));
          if (!seen.every((s) => s === 503)) throw new Error(`health answers ${seen.join(', ')}${describeExits()}`);
          return true;
        },
        { what: 'nodes unready while Postgres is away', timeoutMs: 30_000 },
      );
      await sleep(Math.max(0, 30_000 - (Date.now() - cutAt)));
    } finally {
      proxy.restore(); // whatever happened, later faults start with Postgres reachable
    }
    await eventually(async () => (await Promise.all(nodes.map(health))).every((s) => s === 200), { what: 'nodes ready again', timeoutMs: 60_000 });
    await sleep(2000);
    await l.stop();
    await everythingArrived('postgres unreachable 30 s', Date.now());
  });

  it('a delivery node SIGKILLed under load, then restarted', async () => {
    const l = load();
    await sleep(3000);
    await nodes[0].kill();
    await sleep(3000);
    nodes[0] = await spawnDeliveryNode('fault-1', {});
    await nodes[0].ready();
    await l.stop();
    await everythingArrived('delivery node SIGKILL', Date.now());
  });

  it('a delivery node SIGSTOPped past its lease TTL under load, then resumed', async () => {
    const l = load();
    await sleep(3000);
    nodes[1].pause();
    try {
      await sleep(15_000);
    } finally {
      nodes[1].resume();
    }
    await sleep(3000);
    await l.stop();
    await everythingArrived('delivery node SIGSTOP 15 s', Date.now());
  });

  it('delivery tasks lost from the stream (both nodes killed, the stream purged) and claims of dead nodes are re-driven from the delivery rows', async () => {
    consumerDelayMs = 1500; // slow answers: the nodes hold hundreds of tasks unacked when they die
    const l = load();
    // Each node's fan-out claims the deliveries of its own partitions (rows due when the claim runs
    // out) and publishes the rest: both kinds are held when the nodes die.
    await eventually(
      async () => {
        const info = await (await nc.jetstreamManager()).streams.info('DELIVERIES');
        const [held] = await sql(`select count(*)::int as n from deliveries where status = 'PENDING'`);
        return info.state.messages >= 10 && held.n >= 200;
      },
      { what: 'hundreds of deliveries held, some of them as tasks in the stream', timeoutMs: 60_000 },
    );
    await Promise.all(nodes.map((n) => n.kill())); // tasks they had pulled stay unacked in the stream...
    consumerDelayMs = 0;
    const jsm = await nc.jetstreamManager();
    const purged = await jsm.streams.purge('DELIVERIES'); // ...and are lost with everything not yet pulled
    const [{ n: claimedAtKill }] = await sql(`select count(*)::int as n from deliveries where status = 'PENDING' and next_attempt_at is not null`);
    for (let i = 0; i < nodes.length; i++) nodes[i] = await spawnDeliveryNode(`fault-${i + 1}`, {});
    await Promise.all(nodes.map((n) => n.ready()));
    await sleep(2000);
    await l.stop();
    await everythingArrived('delivery stream purged', Date.now());
    (figures['delivery stream purged'] as Record<string, unknown>).tasks_purged = purged.purged;
    (figures['delivery stream purged'] as Record<string, unknown>).claimed_at_kill = claimedAtKill;
    expect(purged.purged).toBeGreaterThan(0);
  });
});
