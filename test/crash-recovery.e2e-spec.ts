import { randomUUID } from 'node:crypto';
import { ApiClient, eventually, HttpsConsumer, NodeProcess, spawnDeliveryNode, TestPlatform } from '@app/testing';
import { useHarness } from './support/harness';

jest.setTimeout(240_000);

/** A delivery node killed with SIGKILL mid-stream loses nothing: after a restart every event arrives. */
describe('crash recovery of a delivery node', () => {
  // A consumer slow enough that the kill lands while hundreds of deliveries are in flight.
  const h = useHarness({ env: { DELIVERY_PARTITIONS: '8' }, consumer: () => ({ status: 200, delayMs: 20 }), config: true, nats: true });
  let platform: TestPlatform;
  let consumer: HttpsConsumer;
  let node: NodeProcess | undefined;
  let dev: ApiClient;
  let accountId: string;

  beforeAll(async () => {
    ({ platform, consumer } = h);
    ({ accountId, dev } = await h.tenant('acme'));
    h.onClose(() => node?.kill());
  });

  it('delivers all 1,000 events at least once after a SIGKILL and a restart', async () => {
    await h.webhooksAt(dev, ['/a', '/b'], { eventTypes: ['transfer.*'] });

    node = await spawnDeliveryNode('crash-1', {});
    await node.ready();

    const ids = Array.from({ length: 1000 }, () => randomUUID());
    await h.publish(accountId, 'transfer.crypto_deposit.completed', ids);

    // Kill once deliveries are flowing but far from done.
    await consumer.waitFor((r) => r.length >= 100, 60_000);
    await node.kill();
    const beforeRestart = consumer.requests.length;
    expect(beforeRestart).toBeLessThan(2000);
    // The node consumed every partition, so its fan-out claimed deliveries for its lanes (up to its
    // headroom, the rest went through the stream): the claimed ones come back through the due-time
    // queue once their claims run out, the others as unacked stream messages.
    const pending = await platform.orm.em
      .fork()
      .getConnection()
      .execute(`select count(*) filter (where next_attempt_at is not null)::int as claimed, count(*)::int as n from deliveries where status = 'PENDING'`);
    expect(pending[0].claimed).toBeGreaterThan(0);
    expect(pending[0].n).toBeGreaterThan(0);

    node = await spawnDeliveryNode('crash-1', {});
    await node.ready();
    const received = (path: string) => h.received(path);
    await eventually(() => ['/a', '/b'].every((p) => received(p).size === 1000), { timeoutMs: 180_000, intervalMs: 500, what: 'all 2,000 deliveries' });
    for (const p of ['/a', '/b']) expect([...received(p)].sort()).toEqual([...ids].sort());
    const duplicates = consumer.requests.length - 2000;
    console.log(`crash recovery: ${beforeRestart} received before the kill, ${duplicates} duplicate deliveries after the restart`);
    // Every duplicate is the same event (same webhook-id), never a new one.
    expect(consumer.requests.every((r) => r.headers['webhook-id'] === JSON.parse(r.body).id)).toBe(true);
    await eventually(
      async () => {
        const rows = await platform.orm.em.fork().getConnection().execute(`select count(*)::int as n from deliveries where status = 'SUCCEEDED'`);
        return rows[0].n === 2000;
      },
      { timeoutMs: 30_000, what: 'all deliveries recorded as succeeded' },
    );
  });
});
