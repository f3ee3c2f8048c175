import { connect, NatsConnection } from 'nats';
import { AckPolicy } from 'nats';
import {
  agreePartitions,
  agreeTaskRouting,
  changingTo,
  deliveryConsumer,
  deliverySubject,
  ensureStreams,
  openClusterKv,
  PartitionChangeInProgressError,
  PartitionMismatchError,
  readTaskRouting,
  STREAM_DELIVERIES,
} from '@app/messaging';
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

  it('records the routing asked for (node by default), and partition routing for a cluster whose nodes made a consumer per partition', async () => {
    const byDefault = await freshCluster();
    expect(await readTaskRouting(byDefault.jetstream())).toBeUndefined();
    expect(await agreeTaskRouting(byDefault.jetstream(), await byDefault.jetstreamManager(), undefined)).toBe('node');
    expect(await readTaskRouting(byDefault.jetstream())).toBe('node');
    const fresh = await freshCluster();
    expect(await agreeTaskRouting(fresh.jetstream(), await fresh.jetstreamManager(), 'partition')).toBe('partition');
    expect(await agreeTaskRouting(fresh.jetstream(), await fresh.jetstreamManager(), undefined)).toBe('partition');
    expect(await agreeTaskRouting(fresh.jetstream(), await fresh.jetstreamManager(), 'partition')).toBe('partition');
    await expect(agreeTaskRouting(fresh.jetstream(), await fresh.jetstreamManager(), 'node')).rejects.toBeInstanceOf(PartitionMismatchError);

    // The config service recorded the default count (16384) before any node: partition routing,
    // which cannot take it, is refused before anything is recorded (else no node could start).
    const countFirst = await freshCluster();
    expect(await agreePartitions(countFirst.jetstream(), undefined, 1, 16384)).toBe(16384);
    await expect(agreeTaskRouting(countFirst.jetstream(), await countFirst.jetstreamManager(), 'partition')).rejects.toBeInstanceOf(PartitionMismatchError);
    expect(await readTaskRouting(countFirst.jetstream())).toBeUndefined();
    expect(await agreeTaskRouting(countFirst.jetstream(), await countFirst.jetstreamManager(), undefined)).toBe('node');

    // A cluster that ran before the setting: its nodes made deliver-<p> consumers.
    const older = await freshCluster();
    const jsm = await older.jetstreamManager();
    await ensureStreams(jsm);
    await jsm.consumers.add(STREAM_DELIVERIES, { durable_name: deliveryConsumer(3), filter_subject: deliverySubject(3), ack_policy: AckPolicy.Explicit });
    await expect(agreeTaskRouting(older.jetstream(), jsm, 'node')).rejects.toBeInstanceOf(PartitionMismatchError);
    expect(await readTaskRouting(older.jetstream())).toBeUndefined(); // refused: nothing recorded
    expect(await agreeTaskRouting(older.jetstream(), jsm, undefined)).toBe('partition');
    expect(await readTaskRouting(older.jetstream())).toBe('partition');

    // While the count is being changed (cluster:repartition deletes every consumer then), nothing is judged.
    const changing = await freshCluster();
    await (await openClusterKv(changing.jetstream())).put('partitions', changingTo(64));
    await expect(agreeTaskRouting(changing.jetstream(), await changing.jetstreamManager(), undefined)).rejects.toBeInstanceOf(PartitionChangeInProgressError);
    expect(await readTaskRouting(changing.jetstream())).toBeUndefined();
  });
});
