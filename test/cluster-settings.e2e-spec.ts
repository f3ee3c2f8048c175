import { connect, NatsConnection } from 'nats';
import { agreePartitions, changingTo, openClusterKv, PartitionChangeInProgressError, PartitionMismatchError } from '@app/messaging';
import { startNatsServer } from '@app/testing';
import { useHarness } from './support/harness';

/** The partition count is fixed per cluster: the first process records it, a different one is refused. */
describe('cluster partition count', () => {
  const h = useHarness({ nats: true });

  /** A client of a cluster of its own (a fresh nats-server), closed with the harness. */
  async function freshCluster(): Promise<NatsConnection> {
    const other = await startNatsServer();
    h.onClose(() => other.dispose());
    const c = await connect({ servers: other.url });
    h.onClose(() => c.close());
    return c;
  }

  it('records the first setting, agrees with it and refuses another', async () => {
    const js = h.nc.jetstream();
    expect(await agreePartitions(js, 16)).toBe(16);
    expect(await agreePartitions(js, undefined)).toBe(16);
    expect(await agreePartitions(js, 16)).toBe(16);
    await expect(agreePartitions(js, 32)).rejects.toBeInstanceOf(PartitionMismatchError);
  });

  it('makes a process wait while the count is being changed, then agree with the new one', async () => {
    const c = await freshCluster();
    expect(await agreePartitions(c.jetstream(), undefined)).toBe(1024); // the default for a new cluster
    const kv = await openClusterKv(c.jetstream());
    await kv.put('partitions', changingTo(256));
    await expect(agreePartitions(c.jetstream(), undefined)).rejects.toBeInstanceOf(PartitionChangeInProgressError);
    await expect(agreePartitions(c.jetstream(), 256)).rejects.toBeInstanceOf(PartitionChangeInProgressError);
    await kv.put('partitions', '256');
    expect(await agreePartitions(c.jetstream(), 256)).toBe(256);
  });

  it('two processes racing to set it end up with one value', async () => {
    const c = await freshCluster();
    const results = await Promise.allSettled([8, 8, 8].map((p) => agreePartitions(c.jetstream(), p)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : r.reason.message))).toEqual([8, 8, 8]);
    expect(await agreePartitions(c.jetstream(), undefined)).toBe(8);
  });
});
