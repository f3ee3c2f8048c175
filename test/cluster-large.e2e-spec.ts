import { randomUUID } from 'node:crypto';
import { eventually, NodeProcess, spawnDeliveryNode } from '@app/testing';
import { MAX_PARTITIONS } from '@app/config';
import { useHarness } from './support/harness';

jest.setTimeout(300_000);

/**
 * The largest partition count a cluster may have (for balance at many nodes, see "Partition count"
 * in the README) works end to end on one node holding all of it: it starts, delivers each event
 * once, and the operator's cluster view lists every partition.
 */
describe(`a cluster of ${MAX_PARTITIONS} partitions`, () => {
  // Node routing: partition routing allows at most 8192 (a consumer each).
  const h = useHarness({ env: { DELIVERY_PARTITIONS: String(MAX_PARTITIONS), DELIVERY_TASK_ROUTING: 'node' }, consumer: true, config: true, nats: true });
  let node: NodeProcess | undefined;

  beforeAll(() => h.onClose(() => node?.stop(60_000)));

  it('starts a node holding every partition, delivers, and shows every partition to the operator', async () => {
    const { accountId, dev } = await h.tenant('acme');
    const acct = await h.platform.account('ops');
    const op = h.api.as(await acct.token('oscar', ['operator']));
    await h.webhooksAt(dev, ['/a', '/b', '/c'], { eventTypes: ['orchestration.*'] });

    node = await spawnDeliveryNode('large-1', {});
    await node.ready(240_000);
    const owned = async () => Number(/^webhook_owned_partitions (\d+)/m.exec(await fetch(`http://127.0.0.1:${node!.port}/metrics`).then((r) => r.text()))?.[1]);
    await eventually(async () => (await owned()) === MAX_PARTITIONS, { timeoutMs: 120_000, intervalMs: 500, what: `the node consuming all ${MAX_PARTITIONS} partitions` });

    const ids = Array.from({ length: 30 }, () => randomUUID());
    await h.publish(accountId, 'orchestration.failed', ids);
    await eventually(() => ['/a', '/b', '/c'].every((p) => ids.every((id) => h.received(p).has(id))), { timeoutMs: 60_000, what: 'every delivery' });
    expect(h.consumer.requests.length).toBe(90);

    const res = await op.get('/v2/cluster');
    expect(res.status === 200 ? 200 : `${res.status} ${res.text.slice(0, 500)}`).toBe(200);
    expect(res.body.partition_leases).toHaveLength(MAX_PARTITIONS);
    expect(new Set(res.body.partition_leases.map((l: { owner?: string }) => l.owner))).toEqual(new Set(['large-1']));
    expect(res.body.unowned_partitions).toEqual([]);
  });
});
