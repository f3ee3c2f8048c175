import { randomUUID } from 'node:crypto';
import { partitionOf } from '@app/hashing';
import { DELIVERY_CONSUMER_PREFIX, mailboxConsumer, mailboxSubject, STREAM_DELIVERIES } from '@app/messaging';
import { eventually, NodeProcess, spawnDeliveryNode } from '@app/testing';
import { useHarness } from './support/harness';
import { counter } from './support/metrics';

/**
 * Node routing (DELIVERY_TASK_ROUTING=node) with real node processes (`npm run build` first): fan-out
 * sends each partition's tasks to the mailbox of the node that holds it, so the partition count costs
 * NATS no consumer; the tasks in the mailbox of a node that is gone reach the partitions' new holder.
 */
jest.setTimeout(300_000);

const P = 16;
const HOOKS = 8;

describe('node routing: one mailbox per delivery node', () => {
  const h = useHarness({
    // Claims off: every delivery goes through a mailbox, as a cluster's fan-out does for the other nodes' partitions.
    env: { DELIVERY_PARTITIONS: String(P), DELIVERY_TASK_ROUTING: 'node', DELIVERY_FANOUT_CLAIMS: 'false', DELIVERY_RECONCILE_AFTER_MS: '600000' },
    consumer: true,
    config: true,
    nats: true,
  });
  const nodes = new Map<string, NodeProcess>();

  beforeAll(() => h.onClose(() => Promise.allSettled([...nodes.values()].map((n) => n.stop(15_000)))));

  async function startNode(id: string): Promise<NodeProcess> {
    const node = await spawnDeliveryNode(id, {});
    nodes.set(id, node);
    await node.ready(60_000);
    return node;
  }

  /** Requests per event id at a path: every event must arrive exactly once. */
  function arrivals(path: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of h.consumer.requests) {
      if (r.path !== path) continue;
      const id = (JSON.parse(r.body) as { id: string }).id;
      out.set(id, (out.get(id) ?? 0) + 1);
    }
    return out;
  }

  async function allArrivedOnce(paths: string[], ids: string[], what: string): Promise<void> {
    await eventually(() => paths.every((p) => ids.every((id) => arrivals(p).has(id))), { timeoutMs: 120_000, what });
    for (const p of paths) for (const id of ids) expect([p, id, arrivals(p).get(id)]).toEqual([p, id, 1]);
  }

  it('delivers through the holders’ mailboxes, and what waits in a killed node’s mailbox reaches the new holder', async () => {
    const { accountId, dev } = await h.tenant('acme');
    const paths = Array.from({ length: HOOKS }, (_, i) => `/hook-${i}`);
    const hooks = await h.webhooksAt(dev, paths, { eventTypes: ['identity.*'] });
    const [a] = await Promise.all([startNode('node-a'), startNode('node-b')]);
    const op = h.api.as(await (await h.platform.account('ops')).token('oscar', ['operator']));
    await eventually(
      async () => {
        const view = (await op.get('/v2/cluster')).body;
        return view.nodes.length === 2 && view.unowned_partitions.length === 0 && view.nodes.every((n: { delivering: number[] }) => n.delivering.length > 0);
      },
      { timeoutMs: 60_000, what: 'both nodes holding partitions' },
    );

    // 1. Every event reaches every webhook once, through the mailboxes; no partition has a consumer.
    const first = Array.from({ length: 10 }, () => randomUUID());
    await h.publish(accountId, 'identity.approved', first);
    await allArrivedOnce(paths, first, 'the first events at every webhook');
    const jsm = await h.nc.jetstreamManager();
    const names: string[] = [];
    for await (const c of jsm.consumers.list(STREAM_DELIVERIES)) names.push(c.name);
    expect(names.filter((n) => n.startsWith(DELIVERY_CONSUMER_PREFIX))).toEqual([]);
    for (const id of ['node-a', 'node-b']) expect((await jsm.consumers.info(STREAM_DELIVERIES, mailboxConsumer(id))).delivered.stream_seq).toBeGreaterThan(0);

    // A copy of a delivery already made, arriving late in a mailbox as a first copy (no recheck
    // mark), is checked against its row and not sent again.
    const heldByB = new Set((await op.get('/v2/cluster')).body.nodes.find((n: { node: string }) => n.node === 'node-b').delivering as number[]);
    const onB = hooks.findIndex((w) => heldByB.has(partitionOf(w, P)));
    expect(onB).toBeGreaterThanOrEqual(0);
    const late = { event_id: first[0], webhook_id: hooks[onB], account_id: accountId, type: 'identity.approved', time: new Date().toISOString(), is_test: false };
    const ack = await h.nc.jetstream().publish(mailboxSubject('node-b'), JSON.stringify({ tasks: [late] }));
    await eventually(async () => (await jsm.consumers.info(STREAM_DELIVERIES, mailboxConsumer('node-b'))).ack_floor.stream_seq >= ack.seq, {
      timeoutMs: 30_000,
      what: 'the late copy taken and settled',
    });
    expect(arrivals(paths[onB]).get(first[0])).toBe(1);
    // So is one that says its rows were written long before it was stored (published late): only
    // a copy stored within seconds of its rows is sent unchecked.
    const recordedLongBefore = await h.nc.jetstream().publish(mailboxSubject('node-b'), JSON.stringify({ tasks: [late], recorded_at: Date.now() - 60_000 }));
    await eventually(async () => (await jsm.consumers.info(STREAM_DELIVERIES, mailboxConsumer('node-b'))).ack_floor.stream_seq >= recordedLongBefore.seq, {
      timeoutMs: 30_000,
      what: 'the copy published late taken and settled',
    });
    expect(arrivals(paths[onB]).get(first[0])).toBe(1);
    // Two fan-outs of one event at once can store a rechecked copy before the first copy: a fresh
    // first copy of a delivery whose rechecked copy came first is read too, not sent unchecked.
    for (const body of [
      { tasks: [late], recheck: true },
      { tasks: [late], recorded_at: Date.now() },
    ]) {
      const stored = await h.nc.jetstream().publish(mailboxSubject('node-b'), JSON.stringify(body));
      await eventually(async () => (await jsm.consumers.info(STREAM_DELIVERIES, mailboxConsumer('node-b'))).ack_floor.stream_seq >= stored.seq, {
        timeoutMs: 30_000,
        what: 'the copy taken and settled',
      });
    }
    expect(arrivals(paths[onB]).get(first[0])).toBe(1);

    // 2. node-a dies. For a few seconds node-b still counts it a member and sends the tasks of its
    // partitions to its mailbox, where nobody pulls them: the mailbox janitor hands them on.
    const heldByA = new Set((await op.get('/v2/cluster')).body.nodes.find((n: { node: string }) => n.node === 'node-a').delivering as number[]);
    const pathsOfA = paths.filter((_, i) => heldByA.has(partitionOf(hooks[i], P)));
    expect(pathsOfA.length).toBeGreaterThan(0);
    await a.kill();
    nodes.delete('node-a');
    const second = Array.from({ length: 10 }, () => randomUUID());
    await h.publish(accountId, 'identity.approved', second);
    await eventually(async () => (await jsm.consumers.info(STREAM_DELIVERIES, mailboxConsumer('node-a'))).num_pending > 0, {
      timeoutMs: 30_000,
      intervalMs: 50,
      what: "tasks waiting in node-a's mailbox",
    });
    await allArrivedOnce(paths, second, 'the events sent while node-a was dying, at every webhook');
    const b = nodes.get('node-b')!;
    const metrics = await (await fetch(`http://127.0.0.1:${b.port}/metrics`)).text();
    expect(counter(metrics, 'webhook_mailbox_tasks_drained_total')).toBeGreaterThan(0);
    const mailboxA = await jsm.consumers.info(STREAM_DELIVERIES, mailboxConsumer('node-a'));
    expect(mailboxA.num_pending + mailboxA.num_ack_pending).toBe(0);
  });
});
