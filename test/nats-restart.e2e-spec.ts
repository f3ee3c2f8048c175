import { randomUUID } from 'node:crypto';
import { ApiClient, eventually, HttpsConsumer, NodeProcess, spawnDeliveryNode, TestPlatform } from '@app/testing';
import { useHarness } from './support/harness';

jest.setTimeout(240_000);

/** NATS restarted under load: every event published before and after reaches every webhook. */
describe('NATS restart under load', () => {
  const h = useHarness({
    env: { DELIVERY_PARTITIONS: '8' },
    consumer: () => ({ status: 200, delayMs: 10 }),
    config: true,
    nats: { maxReconnectAttempts: -1, reconnectTimeWait: 250 },
  });
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

  it('delivers everything published before and after a NATS restart', async () => {
    await h.webhooksAt(dev, ['/a', '/b'], { eventTypes: ['orchestration.*'] });
    node = await spawnDeliveryNode('restart-1', {});
    await node.ready();

    const publish = (ids: string[]) => h.publish(accountId, 'orchestration.failed', ids);
    const before = Array.from({ length: 400 }, () => randomUUID());
    await publish(before);
    await consumer.waitFor((r) => r.length >= 100, 60_000);

    await platform.nats.stop();
    await platform.nats.restart();

    const after = Array.from({ length: 400 }, () => randomUUID());
    await eventually(
      async () => {
        await publish(after); // retried until NATS takes them again; Nats-Msg-Id keeps one copy
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'publishing after the restart' },
    );

    const received = (path: string) => h.received(path);
    const all = [...before, ...after];
    await eventually(() => ['/a', '/b'].every((p) => all.every((id) => received(p).has(id))), {
      timeoutMs: 150_000,
      intervalMs: 500,
      what: `all ${all.length * 2} deliveries (node output: ${node.output().slice(-1500)})`,
    });
    expect(node.exited).toBe(false);
  });
});
