import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { partitionOf } from '@app/hashing';
import { DeliveryTask, DeliveryTaskBatch, deliveryConsumer, deliverySubject, FANOUT_CONSUMER, STREAM_DELIVERIES, STREAM_EVENTS } from '@app/messaging';
import { eventually, NodeProcess, spawnDeliveryNode, testEvent } from '@app/testing';
import { useHarness } from './support/harness';

jest.setTimeout(180_000);

const PARTITIONS = 4;
const TYPE = 'orchestration.failed';

/**
 * Copies of delivery tasks: fan-out writes one message per partition for many deliveries, so a
 * message handed out again, or an event fanned out again among other events, carries deliveries
 * that may have been sent already. Whatever the copy, each delivery reaches its webhook once, and a
 * delivery still waiting in such a copy is sent.
 */
describe('copies of delivery tasks', () => {
  // Partition routing: these copies come from a partition's own consumer (with node routing every mailbox task is checked, see node-routing.e2e-spec.ts).
  const h = useHarness({ env: { DELIVERY_PARTITIONS: String(PARTITIONS), DELIVERY_TASK_ROUTING: 'partition' }, consumer: true, config: true, nats: true });
  let node: NodeProcess | undefined;
  let accountId: string;
  let hooks: string[];

  beforeAll(async () => {
    h.onClose(() => node?.kill());
    let dev;
    ({ accountId, dev } = await h.tenant('acme'));
    hooks = await h.webhooksAt(dev, ['/a', '/b'], { eventTypes: ['orchestration.*'] });
    node = await spawnDeliveryNode('copies-1', {});
    await node.ready();
  });

  /** Requests the consumer had per event id at a path. */
  const counts = (path: string) => {
    const out = new Map<string, number>();
    for (const r of h.consumer.requests) if (r.path === path) out.set(JSON.parse(r.body).id, (out.get(JSON.parse(r.body).id) ?? 0) + 1);
    return out;
  };

  /** Every task message of every partition acked, and every event fanned out. */
  async function drained(): Promise<void> {
    const jsm = await h.nc.jetstreamManager();
    await eventually(
      async () => {
        const fanout = await jsm.consumers.info(STREAM_EVENTS, FANOUT_CONSUMER);
        if (fanout.num_pending + fanout.num_ack_pending > 0) return false;
        for (let p = 0; p < PARTITIONS; p++) {
          const c = await jsm.consumers.info(STREAM_DELIVERIES, deliveryConsumer(p)).catch(() => undefined);
          if (c && c.num_pending + c.num_ack_pending > 0) return false;
        }
        return true;
      },
      { timeoutMs: 60_000, what: 'every event fanned out and every task message acked' },
    );
  }

  it('an event published again (another message id, fanned out among other events) reaches each webhook once', async () => {
    const first = Array.from({ length: 20 }, () => randomUUID());
    await h.publish(accountId, TYPE, first);
    await eventually(() => first.every((id) => h.received('/a').has(id) && h.received('/b').has(id)), { timeoutMs: 60_000, what: 'the first events delivered' });

    // The same events again, as a publisher retrying past the stream's duplicate window would, mixed
    // with new ones so that fan-out groups their deliveries differently than the first time.
    const fresh = Array.from({ length: 20 }, () => randomUUID());
    const js = h.nc.jetstream();
    for (let i = 0; i < first.length; i++) {
      for (const id of [first[i], fresh[i]]) await js.publish(`events.${TYPE}`, JSON.stringify(testEvent(accountId, id, TYPE, {})), { msgID: randomUUID() });
    }
    await eventually(() => fresh.every((id) => h.received('/a').has(id) && h.received('/b').has(id)), { timeoutMs: 60_000, what: 'the new events delivered' });
    await drained();
    for (const path of ['/a', '/b']) {
      const seen = counts(path);
      for (const id of [...first, ...fresh]) expect(`${path} ${id} ${seen.get(id)}`).toBe(`${path} ${id} 1`);
    }
  });

  it('a task message handed out again sends only the deliveries still waiting, and is acked', async () => {
    const sent = Array.from({ length: 3 }, () => randomUUID());
    await h.publish(accountId, TYPE, sent);
    await eventually(() => sent.every((id) => h.received('/a').has(id)), { timeoutMs: 60_000, what: 'three events delivered' });
    await drained();
    await node!.stop();

    // Three more events recorded with their delivery to /a waiting, as fan-out leaves them.
    const waiting = Array.from({ length: 3 }, () => randomUUID());
    const pg = new Client({ connectionString: h.platform.db.url });
    await pg.connect();
    try {
      const partition = partitionOf(hooks[0], PARTITIONS);
      const events = waiting.map((id) => testEvent(accountId, id, TYPE, {}));
      for (const e of events) {
        await pg.query(`insert into events (id, account_id, type, object_type, object, created_at) values ($1, $2, $3, $4, $5, $6)`, [
          e.id,
          accountId,
          e.type,
          e.object_type,
          JSON.stringify(e.object),
          e.time,
        ]);
        await pg.query(`insert into deliveries (event_id, webhook_id, account_id, partition) values ($1, $2, $3, $4)`, [e.id, hooks[0], accountId, partition]);
      }
      const task = (id: string, time: string): DeliveryTask => ({ event_id: id, webhook_id: hooks[0], account_id: accountId, type: TYPE, time, is_test: false });
      const batch: DeliveryTaskBatch = { tasks: [...sent.map((id) => task(id, new Date().toISOString())), ...events.map((e) => task(e.id, e.time))] };
      await h.nc.jetstream().publish(deliverySubject(partition), JSON.stringify(batch), { msgID: randomUUID() });

      // Handed out once and given back, as by a node that stopped before settling it.
      const consumer = await h.nc.jetstream().consumers.get(STREAM_DELIVERIES, deliveryConsumer(partition));
      const handedOut = await consumer.next({ expires: 5000 });
      expect(handedOut?.json<DeliveryTaskBatch>().tasks.length).toBe(6);
      handedOut!.nak();

      node = await spawnDeliveryNode('copies-2', {});
      await node.ready();
      await eventually(() => waiting.every((id) => h.received('/a').has(id)), { timeoutMs: 60_000, what: 'the waiting deliveries of the message sent' });
      await drained();
      const seen = counts('/a');
      for (const id of [...sent, ...waiting]) expect(`${id} ${seen.get(id)}`).toBe(`${id} 1`);
      const rows = await pg.query<{ status: string }>(`select status from deliveries where event_id = any($1::uuid[]) and webhook_id = $2`, [waiting, hooks[0]]);
      expect(rows.rows.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    } finally {
      await pg.end();
    }
  });
});
