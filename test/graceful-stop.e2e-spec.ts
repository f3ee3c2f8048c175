import { randomUUID } from 'node:crypto';
import { eventually, NodeProcess, spawnDeliveryNode } from '@app/testing';
import { useHarness } from './support/harness';

/**
 * A delivery node stopped (SIGTERM) while a send is in flight, as before `cluster:repartition` or in
 * a rolling restart: the send runs to its answer and is recorded before the node lets the partition
 * go, so the consumer, which had the request already, never gets it again. (A real node process:
 * `npm run build` first.)
 */
jest.setTimeout(180_000);

describe('graceful stop with a send in flight', () => {
  /** Resolves the consumer's answer to the first request, held until the node is stopping. */
  let answerHeld: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (answerHeld = resolve));
  let first = true;
  /** The same for the first request to /many. */
  let manyHeld: () => void = () => undefined;
  const heldMany = new Promise<void>((resolve) => (manyHeld = resolve));
  let firstMany = true;
  const h = useHarness({
    env: { DELIVERY_PARTITIONS: '4' },
    consumer: async (r) => {
      if (r.path === '/many') {
        if (firstMany) {
          firstMany = false;
          await heldMany;
        }
      } else if (first) {
        first = false;
        await held;
      }
      return { status: 200, body: 'ok' };
    },
    config: true,
    nats: true,
  });
  const nodes: NodeProcess[] = [];

  afterAll(() => Promise.allSettled(nodes.map((n) => n.stop(15_000))));

  const start = async (id: string) => {
    const node = await spawnDeliveryNode(id, { LOG_LEVEL: 'log' });
    nodes.push(node);
    await node.ready();
    return node;
  };

  it('answers and records the send before exiting; the next node never sends it again', async () => {
    const { accountId, dev } = await h.tenant('stopping');
    const [webhookId] = await h.webhooksAt(dev, ['/held'], { eventTypes: ['identity.*'], rateLimit: 10 });
    const a = await start('node-a');
    const eventId = randomUUID();
    await h.publish(accountId, 'identity.approved', [eventId]);
    await h.consumer.waitFor((reqs) => reqs.length === 1, 60_000); // arrived; its answer is held

    const stopping = a.stop();
    // Answered only once the node is handing its partitions back: while it waits for the send (or,
    // had it cut the send, once it has exited).
    await eventually(() => a.exited || a.output().includes('waiting for their sends in flight (1)'), { timeoutMs: 30_000, what: 'node-a handing back with the send in flight' });
    answerHeld();
    await stopping;

    await start('node-b'); // would send again whatever node-a left pending
    const delivery = () =>
      h.platform.sql<{ status: string; attempts: number }>(`select status, attempts from deliveries where event_id = $1 and webhook_id = $2`, [eventId, webhookId]);
    await eventually(async () => (await delivery())[0]?.status === 'SUCCEEDED', { timeoutMs: 60_000, what: 'the delivery succeeded' });
    expect(await delivery()).toEqual([{ status: 'SUCCEEDED', attempts: 1 }]);
    // One attempt, the held one, and not one cut with 'stopped: ...' and sent again.
    expect(await h.platform.sql(`select node_id, success, error from delivery_attempts where event_id = $1`, [eventId])).toEqual([
      { node_id: 'node-a', success: true, error: null },
    ]);
    expect(h.consumer.requests.filter((r) => r.path === '/held')).toHaveLength(1);
  });

  it('a message of several deliveries: the send in flight is recorded, the ones not started go to the next node, each sent once', async () => {
    for (const n of nodes.splice(0)) await n.stop(15_000);
    const { accountId, dev } = await h.tenant('stopping-many');
    // At rate_limit 1 the lane starts one send, and the rest of the message waits behind it.
    const [webhookId] = await h.webhooksAt(dev, ['/many'], { eventTypes: ['identity.*'], rateLimit: 1 });
    const a = await start('node-c');
    const events = Array.from({ length: 6 }, () => randomUUID());
    await h.publish(accountId, 'identity.approved', events);
    await h.consumer.waitFor((reqs) => reqs.some((r) => r.path === '/many'), 60_000);

    const stopping = a.stop();
    await eventually(() => a.exited || a.output().includes('waiting for their sends in flight (1)'), { timeoutMs: 30_000, what: 'node-c handing back with the send in flight' });
    manyHeld();
    await stopping;

    await start('node-d');
    const rows = () => h.platform.sql<{ status: string; attempts: number }>(`select status, attempts from deliveries where webhook_id = $1`, [webhookId]);
    await eventually(async () => (await rows()).filter((r) => r.status === 'SUCCEEDED').length === events.length, { timeoutMs: 90_000, what: 'the six deliveries succeeded' });
    expect((await rows()).map((r) => r.attempts)).toEqual(events.map(() => 1));
    const sent = h.consumer.requests.filter((r) => r.path === '/many').map((r) => JSON.parse(r.body).id as string);
    expect(sent.sort()).toEqual([...events].sort());
    const byNode = await h.platform.sql<{ node_id: string; n: number }>(`select node_id, count(*)::int as n from delivery_attempts where webhook_id = $1 group by 1 order by 1`, [
      webhookId,
    ]);
    expect(byNode).toEqual([
      { node_id: 'node-c', n: 1 },
      { node_id: 'node-d', n: 5 },
    ]);
  });
});
