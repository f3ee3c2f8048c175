import { randomUUID } from 'node:crypto';
import { headers } from 'nats';
import { EVENTS_DEAD_SUBJECT_PREFIX, FANOUT_CONSUMER, KV_CLUSTER, STREAM_EVENTS, STREAM_EVENTS_DEAD } from '@app/messaging';
import { eventually, NodeProcess, spawnDeliveryNode } from '@app/testing';
import { useHarness } from './support/harness';

jest.setTimeout(180_000);

/**
 * Events lost before fan-out: the `fanout` consumer's state moves past events no node handled (as
 * JetStream did after a NATS server was cut from its cluster). Here the test takes them off the
 * consumer itself while no node runs; the node's fan-out audit must find and fan them out, once.
 */
describe('fan-out audit', () => {
  const h = useHarness({ env: { DELIVERY_PARTITIONS: '4', FANOUT_AUDIT_INTERVAL_MS: '500' }, consumer: true, config: true, nats: true });
  let node: NodeProcess | undefined;

  beforeAll(() => h.onClose(() => node?.kill()));

  it('fans out every event the fan-out consumer moved past without handling: valid ones to their webhooks once, invalid ones aside', async () => {
    const { accountId, dev } = await h.tenant('acme');
    await h.webhooksAt(dev, ['/a', '/b'], { eventTypes: ['orchestration.*'] });
    node = await spawnDeliveryNode('audit-1', {});
    await node.ready();
    const warm = [randomUUID()];
    await h.publish(accountId, 'orchestration.failed', warm);
    await eventually(() => h.received('/a').has(warm[0]) && h.received('/b').has(warm[0]), { timeoutMs: 60_000, what: 'the first event delivered' });
    await node.stop();

    // While no node runs: events arrive, and the consumer is moved past every one of them.
    const skipped = Array.from({ length: 40 }, () => randomUUID());
    await h.publish(accountId, 'orchestration.failed', skipped);
    const bad = headers();
    bad.set('Nats-Msg-Id', randomUUID());
    const badAck = await h.nc.jetstream().publish('events.orchestration.failed', '{"not": "an event"', { headers: bad });
    const fanout = await h.nc.jetstream().consumers.get(STREAM_EVENTS, FANOUT_CONSUMER);
    let taken = 0;
    while (taken < skipped.length + 1) {
      for await (const m of await fanout.fetch({ max_messages: skipped.length + 1 - taken, expires: 2000 })) {
        await m.ackAck();
        taken++;
      }
    }
    const info = await (await h.nc.jetstreamManager()).consumers.info(STREAM_EVENTS, FANOUT_CONSUMER);
    expect(info.num_pending + info.num_ack_pending).toBe(0);
    expect(info.ack_floor.stream_seq).toBe(badAck.seq);

    node = await spawnDeliveryNode('audit-2', {});
    await node.ready();
    const received = () => [...h.consumer.requests].filter((r) => r.path === '/a' || r.path === '/b').map((r) => `${r.path} ${JSON.parse(r.body).id}`);
    await eventually(() => skipped.every((id) => h.received('/a').has(id) && h.received('/b').has(id)), {
      timeoutMs: 90_000,
      what: `the ${skipped.length * 2} deliveries of the skipped events (node output: ${node.output().slice(-1500)})`,
    });

    const jsm = await h.nc.jetstreamManager();
    const dead = await eventually(() => jsm.streams.getMessage(STREAM_EVENTS_DEAD, { last_by_subj: `${EVENTS_DEAD_SUBJECT_PREFIX}malformed` }).catch(() => undefined), {
      timeoutMs: 30_000,
      what: 'the invalid event set aside',
    });
    expect(dead!.header.get('Webhooks-Original-Subject')).toBe('events.orchestration.failed');

    // Once the audit has gone past everything, nothing was delivered twice.
    const kv = await h.nc.jetstream().views.kv(KV_CLUSTER);
    await eventually(async () => Number((await kv.get('fanout-audit'))?.string()) >= badAck.seq, { timeoutMs: 30_000, what: 'the audit cursor past the skipped events' });
    const deliveries = received();
    expect(deliveries.length).toBe(new Set(deliveries).size);
    expect(deliveries.length).toBe(2 * (warm.length + skipped.length));
    // Counted as recovered: the skipped events only, not the malformed one set aside again.
    const metrics = await fetch(`http://127.0.0.1:${node.port}/metrics`).then((r) => r.text());
    expect(/^webhook_events_recovered_total (\d+)/m.exec(metrics)?.[1]).toBe(String(skipped.length));
  });
});
