import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { partitionOf } from '@app/hashing';
import { agreePartitions, openClusterKv, PartitionMismatchError, readTaskRouting, STREAM_DELIVERIES } from '@app/messaging';
import { eventually, NodeProcess, spawnDeliveryNode } from '@app/testing';
import { useHarness } from './support/harness';

/**
 * Changing the partition count and the task routing of a running cluster (`npm run admin --
 * cluster:repartition`, so `npm run build` first): deliveries caught in every state (queued tasks,
 * retries scheduled in Postgres, events not fanned out yet) are each delivered exactly once afterwards.
 */
jest.setTimeout(300_000);

const FROM = 4;
const TO = 16;
const HOOKS = 6;
const run = promisify(execFile);
const ADMIN = join(process.cwd(), 'dist', 'scripts', 'admin.js');

describe('cluster:repartition', () => {
  let failing = true;
  /** webhook path -> webhook-id header -> times answered 2xx. */
  const accepted = new Map<string, Map<string, number>>();
  const nodes: NodeProcess[] = [];
  const h = useHarness({
    env: { DELIVERY_PARTITIONS: String(FROM), DELIVERY_TASK_ROUTING: 'partition' },
    consumer: (r) => {
      if (failing) return { status: 503, body: 'down for maintenance' };
      const byId = accepted.get(r.path) ?? new Map<string, number>();
      accepted.set(r.path, byId);
      byId.set(r.headers['webhook-id'], (byId.get(r.headers['webhook-id']) ?? 0) + 1);
      return { status: 200, body: 'ok' };
    },
    config: true,
    nats: true,
  });

  beforeAll(() => h.onClose(() => Promise.allSettled(nodes.map((n) => n.stop(15_000)))));

  const startNodes = async (partitions: number, routing: 'partition' | 'node') => {
    const started = await Promise.all(['node-a', 'node-b'].map((id) => spawnDeliveryNode(id, { DELIVERY_PARTITIONS: String(partitions), DELIVERY_TASK_ROUTING: routing })));
    nodes.push(...started);
    await Promise.all(started.map((n) => n.ready()));
  };

  const stopNodes = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    nodes.length = 0;
  };

  let accountId: string;
  const publishMany = async (n: number) => {
    const ids = Array.from({ length: n }, () => randomUUID());
    await h.publish(accountId, 'identity.approved', ids);
    return ids;
  };

  const admin = (partitions: number, ...more: string[]) =>
    run(process.execPath, [ADMIN, 'cluster:repartition', '--partitions', String(partitions), ...more], { env: process.env }).then(
      ({ stdout }) => ({ ok: true as const, out: JSON.parse(stdout) }),
      (err: { stderr: string }) => ({ ok: false as const, err: err.stderr }),
    );

  it('moves a cluster from 4 partitions routed by partition to 16 routed by node with deliveries in flight: every one delivered, none twice', async () => {
    const tenant = await h.tenant('acme');
    accountId = tenant.accountId;
    const paths = Array.from({ length: HOOKS }, (_, i) => `/r-${i}`);
    const ids = await h.webhooksAt(tenant.dev, paths, { eventTypes: ['identity.*'], rateLimit: 100 });
    const hooks = paths.map((path, i) => ({ id: ids[i], path }));
    await startNodes(FROM, 'partition');

    // In flight: every delivery answered 503 at least once (a retry scheduled in Postgres), while more
    // events arrive; then the nodes stop with tasks queued and events not fanned out yet.
    const first = await publishMany(40);
    await eventually(async () => Number((await h.platform.sql(`select count(*) as n from deliveries where attempts > 0`))[0].n) >= 40 * HOOKS, {
      timeoutMs: 60_000,
      what: 'every delivery tried once',
    });
    const second = await publishMany(20);
    await eventually(async () => Number((await h.platform.sql(`select count(*) as n from deliveries`))[0].n) > 40 * HOOKS, {
      timeoutMs: 30_000,
      what: 'some of the second batch fanned out',
    });

    // Refused while a node runs: nothing changes.
    const refused = await admin(TO);
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.err).toMatch(/delivery nodes are running \(node-a, node-b\)/);
    expect((await (await openClusterKv(h.nc.jetstream())).get('partitions'))?.string()).toBe(String(FROM));

    await stopNodes();
    const third = await publishMany(20); // waits in EVENTS for the new partitions
    // More partitions than partition routing allows (a consumer each): refused, nothing changed.
    const tooMany = await admin(16384);
    expect(!tooMany.ok && tooMany.err).toMatch(/partition routing allows at most 8192 partitions/);
    expect((await (await openClusterKv(h.nc.jetstream())).get('partitions'))?.string()).toBe(String(FROM));

    const changed = await admin(TO, '--routing', 'node');
    expect(changed.ok ? 'done' : changed.err).toBe('done');
    expect(changed).toMatchObject({ ok: true, out: { from: FROM, to: TO, routing: 'node' } });
    const pending = await h.platform.sql<{ webhook_id: string; partition: number; due: boolean }>(
      `select webhook_id, partition, next_attempt_at <= now() as due from deliveries where status = 'PENDING'`,
    );
    expect(pending.length).toBeGreaterThan(0);
    expect(changed.ok && changed.out.moved_rows).toBe(pending.length);
    // Rows are on their new partition (the SQL hash is partitionOf) and due now; old tasks and consumers are gone.
    for (const row of pending) {
      expect(row.partition).toBe(partitionOf(row.webhook_id, TO));
      expect(row.due).toBe(true);
    }
    const jsm = await h.nc.jetstreamManager();
    expect((await jsm.streams.info(STREAM_DELIVERIES)).state.messages).toBe(0);
    expect((await jsm.consumers.list(STREAM_DELIVERIES).next()).filter((c) => c.name.startsWith('deliver-'))).toEqual([]);
    expect(await agreePartitions(h.nc.jetstream(), undefined)).toBe(TO);
    expect(await readTaskRouting(h.nc.jetstream())).toBe('node');
    await expect(agreePartitions(h.nc.jetstream(), FROM)).rejects.toBeInstanceOf(PartitionMismatchError);

    failing = false;
    await startNodes(TO, 'node');
    const all = [...first, ...second, ...third];
    await eventually(async () => Number((await h.platform.sql(`select count(*) as n from deliveries where status = 'SUCCEEDED'`))[0].n) === all.length * HOOKS, {
      timeoutMs: 180_000,
      intervalMs: 500,
      what: 'every delivery succeeded',
    });
    expect(await h.platform.sql(`select status, count(*) from deliveries where status <> 'SUCCEEDED' group by status`)).toEqual([]);
    // The nodes took the cluster's routing: a mailbox each, no consumer per partition.
    const consumers = (await jsm.consumers.list(STREAM_DELIVERIES).next()).map((c) => c.name).sort();
    expect(consumers).toEqual(['mailbox-node-a', 'mailbox-node-b']);
    // New deliveries are recorded on the new partitions.
    for (const row of await h.platform.sql<{ webhook_id: string; partition: number }>(`select d.webhook_id, d.partition from deliveries d where d.event_id = any($1::uuid[])`, [
      third,
    ])) {
      expect(row.partition).toBe(partitionOf(row.webhook_id, TO));
    }
    // The consumer's view: each event exactly once per webhook, by its webhook-id.
    for (const hook of hooks) {
      const byId = accepted.get(hook.path) ?? new Map<string, number>();
      const twice = [...byId].filter(([, n]) => n > 1);
      expect(twice).toEqual([]);
      expect(byId.size).toBe(all.length);
    }
  });
});
