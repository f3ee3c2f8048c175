import { KV_PARTITION_LEASES_BEFORE_NODE_LEASES, openPartitionOwnersKv, PartitionOwner } from '@app/messaging';
import { eventually, NodeProcess, spawnDeliveryNode } from '@app/testing';
import { useHarness } from './support/harness';

/**
 * Nodes of a release before node leases keep one renewed lease per partition and do not see node
 * leases: a node of this release must not deliver beside one. It waits while their bucket has
 * entries, and takes its partitions once they are gone (`npm run build` first).
 */
jest.setTimeout(120_000);

const P = 4;

describe('upgrade from per-partition leases', () => {
  const h = useHarness({ env: { DELIVERY_PARTITIONS: String(P) }, config: true, nats: true });
  let node: NodeProcess | undefined;
  beforeAll(() => h.onClose(() => node?.stop(15_000)));

  /** Partition -> the node its key in `partition-owners` names. */
  const owners = async () => {
    const kv = await openPartitionOwnersKv(h.nc.jetstream());
    const out = new Map<number, string>();
    for (let p = 0; p < P; p++) {
      const e = await kv.get(String(p));
      if (e?.operation === 'PUT') out.set(p, e.json<PartitionOwner>().node);
    }
    return out;
  };

  it('a node waits while a node of the earlier release holds a lease, then takes every partition', async () => {
    const js = h.nc.jetstream();
    // (That release's TTL is 10 s; a longer one here keeps the entry until the test removes it.)
    const old = await js.views.kv(KV_PARTITION_LEASES_BEFORE_NODE_LEASES, { history: 1, ttl: 120_000 });
    await old.put('2', JSON.stringify({ node: 'node-of-earlier-release', acquired_at: new Date().toISOString() }));

    node = await spawnDeliveryNode('upgraded', { LOG_LEVEL: 'warn' });
    // It says why it waits while it waits (start-up logs are not held until start-up ends).
    await eventually(() => /waiting for delivery nodes of an earlier release to stop/.test(node!.output()), { timeoutMs: 30_000, what: 'the node says it waits' });
    expect([...(await owners())]).toEqual([]);
    expect(
      await fetch(`http://127.0.0.1:${node.port}/health`).then(
        (r) => r.status,
        () => 'not serving yet',
      ),
    ).not.toBe(200);

    // The earlier release's last node stopped and its lease expired (here: at once).
    await (await h.nc.jetstreamManager()).streams.purge(`KV_${KV_PARTITION_LEASES_BEFORE_NODE_LEASES}`);
    await node.ready();
    await eventually(async () => (await owners()).size === P, { what: 'every partition taken' });
    expect([...(await owners()).values()]).toEqual(Array(P).fill('upgraded'));
    // The old bucket is gone: a node of that release that was only paused finds nowhere to lease.
    await expect((await h.nc.jetstreamManager()).streams.info(`KV_${KV_PARTITION_LEASES_BEFORE_NODE_LEASES}`)).rejects.toThrow(/stream not found/);
  });
});
