import { randomUUID } from 'node:crypto';
import { AckPolicy } from 'nats';
import { partitionOf } from '@app/hashing';
import { deliveryConsumer, deliverySubject, STREAM_DELIVERIES } from '@app/messaging';
import { eventually } from '@app/testing';
import { useHarness } from './support/harness';
import { counter } from './support/metrics';

jest.setTimeout(120_000);

const PARTITIONS = 4;

/**
 * A partition whose stream consumer cannot start (here: another consumer squats its subject on the
 * work-queue stream, which JetStream refuses to share; in production, a consumer without a
 * JetStream leader after a NATS server rejoined) shows in the operator's view and the node's
 * metrics, and is consumed again by itself once the cause is gone, tasks waiting meanwhile included.
 */
describe('a partition whose stream consumer cannot start', () => {
  // Partition routing: a stream consumer per partition (with node routing one mailbox carries them all).
  const h = useHarness({
    env: { DELIVERY_PARTITIONS: String(PARTITIONS), DELIVERY_FANOUT_CLAIMS: 'false', DELIVERY_TASK_ROUTING: 'partition' },
    consumer: true,
    config: true,
    node: 'listen',
    nats: true,
  });

  it('is listed as stalled while it fails, and runs again, its waiting tasks delivered, once the cause is gone', async () => {
    const { accountId, dev } = await h.tenant('acme');
    const metrics = async () => (await h.nodeApi.get('/metrics')).text;
    await eventually(async () => counter(await metrics(), 'webhook_owned_partitions') === PARTITIONS, { timeoutMs: 60_000, what: 'the node consuming every partition' });
    const [hook] = await h.webhooksAt(dev, ['/stalled'], { eventTypes: ['identity.*'] });
    const p = partitionOf(hook, PARTITIONS);

    // Take the webhook's partition away from the node's consumer: delete it and put a squatter on
    // its subject before the node makes it again (it tries again within half a second; retry if it won).
    const jsm = await h.nc.jetstreamManager();
    await eventually(
      async () => {
        await jsm.consumers.delete(STREAM_DELIVERIES, deliveryConsumer(p)).catch(() => undefined);
        return jsm.consumers.add(STREAM_DELIVERIES, { durable_name: 'squatter', filter_subject: deliverySubject(p), ack_policy: AckPolicy.Explicit }).then(
          () => true,
          () => false,
        );
      },
      { timeoutMs: 30_000, intervalMs: 50, what: `a squatter on partition ${p}` },
    );

    const op = h.api.as(await (await h.platform.account('ops')).token('oscar', ['operator']));
    await eventually(
      async () => {
        const view = (await op.get('/v2/cluster')).body;
        return view.stalled_partitions.join() === String(p) && view.nodes.length === 1 && view.nodes[0].stalled_partitions.join() === String(p);
      },
      { timeoutMs: 30_000, what: `partition ${p} listed as stalled in GET /v2/cluster` },
    );
    expect(counter(await metrics(), 'webhook_stalled_partitions')).toBe(1);

    // A task for the stalled partition waits in the stream (the squatter does not pull), then the cause goes.
    const id = randomUUID();
    await h.publish(accountId, 'identity.approved', [id]);
    const path = '/stalled';
    await eventually(async () => (await jsm.consumers.info(STREAM_DELIVERIES, 'squatter')).num_pending > 0, { timeoutMs: 30_000, what: 'the task waiting in the stream' });
    expect(h.received(path).has(id)).toBe(false);
    await jsm.consumers.delete(STREAM_DELIVERIES, 'squatter');

    await eventually(() => h.received(path).has(id), { timeoutMs: 30_000, what: 'the waiting task delivered once its partition is consumed again' });
    await eventually(async () => (await op.get('/v2/cluster')).body.stalled_partitions.length === 0, { timeoutMs: 30_000, what: 'no partition stalled any more' });
    expect(counter(await metrics(), 'webhook_stalled_partitions')).toBe(0);
  });
});
