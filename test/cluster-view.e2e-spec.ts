import { agreePartitions, NodeHeartbeat, NodeLease, openNodeLeasesKv, openNodesKv, openPartitionOwnersKv, PartitionOwner } from '@app/messaging';
import { useHarness } from './support/harness';

/**
 * The operator's cluster view reads who holds each partition from the keys and who delivers it from
 * the nodes' heartbeats, and lists where the two differ: a partition held by a node that does not
 * deliver it is stuck (nobody else may take it while that node's lease lives).
 */
describe('GET /v2/cluster', () => {
  const h = useHarness({ env: { DELIVERY_PARTITIONS: '4' }, config: true, nats: true });

  it('lists partitions held but not delivered, and delivered but not held', async () => {
    const js = h.nc.jetstream();
    await agreePartitions(js, 4);
    const [nodes, leases, owners] = await Promise.all([openNodesKv(js), openNodeLeasesKv(js), openPartitionOwnersKv(js)]);
    const lease = (node: string, id: string): NodeLease => ({ node, lease: id, incarnation: id, since: new Date().toISOString() });
    const owner = (node: string, id: string): PartitionOwner => ({ node, lease: id, acquired_at: new Date().toISOString() });
    const beat = (node: string, partitions: number[]): NodeHeartbeat => ({ node, started_at: new Date().toISOString(), at: new Date().toISOString(), partitions });
    await leases.put('ghost', JSON.stringify(lease('ghost', 'g1')));
    await leases.put('busy', JSON.stringify(lease('busy', 'b1')));
    await owners.put('0', JSON.stringify(owner('ghost', 'g1'))); // held, delivered by nobody: stuck
    await owners.put('1', JSON.stringify(owner('busy', 'b1'))); // held and delivered by its holder
    await owners.put('3', JSON.stringify(owner('busy', 'old-lease'))); // a key under a lease that is over: nobody's
    await nodes.put('ghost', JSON.stringify(beat('ghost', [])));
    await nodes.put('busy', JSON.stringify(beat('busy', [1, 2]))); // 2 delivered without being held

    const acct = await h.platform.account('ops');
    const res = await h.api.as(await acct.token('oscar', ['operator'])).get('/v2/cluster');
    expect(res.status).toBe(200);
    expect(res.body.partition_leases.map((l: { owner: string | null }) => l.owner)).toEqual(['ghost', 'busy', null, null]);
    expect(res.body.unowned_partitions).toEqual([2, 3]);
    expect(res.body.mismatched_partitions).toEqual([0, 2]);
  });
});
