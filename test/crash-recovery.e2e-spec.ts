import { randomUUID } from 'node:crypto';
import { NatsConnection } from 'nats';
import { objectTypeOf } from '@app/domain';
import { publishEvent } from '@app/messaging';
import { ApiClient, eventually, HttpsConsumer, NodeProcess, spawnDeliveryNode, TestPlatform, waitForWebhooksInKv } from '@app/testing';
import { useHarness } from './support/harness';

jest.setTimeout(240_000);

/** A delivery node killed with SIGKILL mid-stream loses nothing: after a restart every event arrives. */
describe('crash recovery of a delivery node', () => {
  // A consumer slow enough that the kill lands while hundreds of deliveries are in flight.
  const h = useHarness({ env: { DELIVERY_PARTITIONS: '8' }, consumer: () => ({ status: 200, delayMs: 20 }), config: true, nats: true });
  let platform: TestPlatform;
  let consumer: HttpsConsumer;
  let nc: NatsConnection;
  let node: NodeProcess | undefined;
  let dev: ApiClient;
  let accountId: string;

  beforeAll(async () => {
    ({ platform, consumer, nc } = h);
    ({ accountId, dev } = await h.tenant('acme'));
    h.onClose(() => node?.kill());
  });

  it('delivers all 1,000 events at least once after a SIGKILL and a restart', async () => {
    const hooks: string[] = [];
    for (const n of ['a', 'b']) {
      const res = await dev.post('/v2/webhooks', {
        name: `crash-${n}`,
        url: `${consumer.url}/${n}`,
        auth_type: 'API_KEY',
        api_key: { header: 'X-Key', key: 'kkkk' },
        event_types: ['transfer.*'],
        rate_limit: 100,
      });
      expect(res.status).toBe(201);
      hooks.push(res.body.id);
    }
    await waitForWebhooksInKv(nc, hooks);

    node = await spawnDeliveryNode('crash-1', {});
    await node.ready();

    const ids = Array.from({ length: 1000 }, () => randomUUID());
    const type = 'transfer.crypto_deposit.completed';
    await Promise.all(
      ids.map((id) => publishEvent(nc.jetstream(), { id, account_id: accountId, type, time: new Date().toISOString(), object_type: objectTypeOf(type)!, object: { n: 1 } })),
    );

    // Kill once deliveries are flowing but far from done.
    await consumer.waitFor((r) => r.length >= 100, 60_000);
    await node.kill();
    const beforeRestart = consumer.requests.length;
    expect(beforeRestart).toBeLessThan(2000);

    node = await spawnDeliveryNode('crash-1', {});
    await node.ready();
    const received = (path: string) => new Set(consumer.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body).id));
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
