import { randomUUID } from 'node:crypto';
import { STREAM_DELIVERIES } from '@app/messaging';
import { eventually } from '@app/testing';
import { CLAIM_HEADROOM } from '../apps/delivery-node/src/fanout/event-fanout';
import { useHarness } from './support/harness';
import { counter } from './support/metrics';

jest.setTimeout(120_000);

const TYPE = 'orchestration.failed';

/**
 * Fan-out hands the deliveries of the partitions its own node consumes straight to that node's
 * lanes: their rows are written claimed (due when the claim runs out, so a crash leaves them to the
 * due-time queue, see crash-recovery) and no task message goes through the deliveries stream. A
 * delivery never has both sources: a claimed one is never published as a first copy.
 */
describe('deliveries of the partitions a node consumes', () => {
  const h = useHarness({ env: { DELIVERY_PARTITIONS: '4' }, consumer: true, config: true, node: 'listen', nats: true });

  it('go from fan-out to their lanes without the stream, claimed in Postgres, each sent once', async () => {
    const { accountId, dev } = await h.tenant('acme');
    await h.webhooksAt(dev, ['/a', '/b'], { eventTypes: ['orchestration.*'] });
    const metrics = async () => (await h.nodeApi.get('/metrics')).text;
    await eventually(async () => counter(await metrics(), 'webhook_owned_partitions') === 4, { timeoutMs: 30_000, what: 'the node consuming every partition' });

    const ids = Array.from({ length: 20 }, () => randomUUID());
    await h.publish(accountId, TYPE, ids);
    // Well inside the 30 s claim: deliveries a broken hand-off dropped would come only once it ran out.
    await eventually(() => ['/a', '/b'].every((p) => ids.every((id) => h.received(p).has(id))), { timeoutMs: 20_000, what: 'every delivery' });
    await eventually(
      async () => {
        const rows = await h.platform.orm.em.fork().getConnection().execute(`select count(*)::int as n from deliveries where status = 'SUCCEEDED' and next_attempt_at is null`);
        return rows[0].n === 40;
      },
      { timeoutMs: 30_000, what: 'every delivery recorded as succeeded, its claim cleared' },
    );

    const stream = await (await h.nc.jetstreamManager()).streams.info(STREAM_DELIVERIES);
    expect(stream.state.last_seq).toBe(0);
    const page = await metrics();
    expect(counter(page, 'webhook_delivery_tasks_claimed_total')).toBe(40);
    expect(counter(page, 'webhook_delivery_tasks_published_total')).toBe(0);
    expect(counter(page, 'webhook_retries_claimed_total')).toBe(0); // none came through the due-time queue
    // What explains the publish-to-delivery time: each planned batch timed, and each delivery's
    // time (counted once the node has its recording's answer, which may come just after the row is visible).
    expect(counter(page, 'webhook_fanout_plan_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(counter(page, 'webhook_fanout_plan_seconds_sum')).toBeGreaterThan(0);
    await eventually(async () => counter(await metrics(), 'webhook_event_to_delivery_seconds_count') === 40, { timeoutMs: 10_000, what: 'every delivery timed' });
    for (const path of ['/a', '/b']) {
      const bodies = h.consumer.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body).id as string);
      expect(bodies.sort()).toEqual([...ids].sort());
    }
  });
});

describe('with DELIVERY_FANOUT_CLAIMS=false', () => {
  const h = useHarness({ env: { DELIVERY_PARTITIONS: '4', DELIVERY_FANOUT_CLAIMS: 'false' }, consumer: true, config: true, node: 'listen', nats: true });

  it('every delivery goes through the deliveries stream, unclaimed, and is sent once', async () => {
    const { accountId, dev } = await h.tenant('acme');
    await h.webhooksAt(dev, ['/a'], { eventTypes: ['orchestration.*'] });
    const metrics = async () => (await h.nodeApi.get('/metrics')).text;
    await eventually(async () => counter(await metrics(), 'webhook_owned_partitions') === 4, { timeoutMs: 30_000, what: 'the node consuming every partition' });
    const ids = Array.from({ length: 10 }, () => randomUUID());
    await h.publish(accountId, TYPE, ids);
    await eventually(() => ids.every((id) => h.received('/a').has(id)), { timeoutMs: 20_000, what: 'every delivery' });
    const page = await metrics();
    expect(counter(page, 'webhook_delivery_tasks_claimed_total')).toBe(0);
    expect(counter(page, 'webhook_delivery_tasks_published_total')).toBe(10);
    expect((await (await h.nc.jetstreamManager()).streams.info(STREAM_DELIVERIES)).state.last_seq).toBeGreaterThan(0);
    expect(h.consumer.requests.length).toBe(10);
  });
});

describe('a burst past the claim headroom', () => {
  // Answers take 6 s, so nothing of the burst is done (and leaves the lanes) while it is fanned out.
  const h = useHarness({ env: { DELIVERY_PARTITIONS: '4' }, consumer: () => ({ status: 200, body: 'ok', delayMs: 6000 }), config: true, node: 'listen', nats: true });

  it(`claims at most ${CLAIM_HEADROOM} deliveries held at once and sends the rest through the stream, each once`, async () => {
    const { accountId, dev } = await h.tenant('acme');
    const paths = Array.from({ length: 10 }, (_, i) => `/h${i}`);
    await h.webhooksAt(dev, paths, { eventTypes: ['orchestration.*'] });
    const metrics = async () => (await h.nodeApi.get('/metrics')).text;
    await eventually(async () => counter(await metrics(), 'webhook_owned_partitions') === 4, { timeoutMs: 30_000, what: 'the node consuming every partition' });

    const ids = Array.from({ length: 60 }, () => randomUUID());
    await h.publish(accountId, TYPE, ids);
    let page = '';
    await eventually(
      async () => {
        page = await metrics();
        return counter(page, 'webhook_delivery_tasks_claimed_total') + counter(page, 'webhook_delivery_tasks_published_total') === 600;
      },
      { timeoutMs: 5000, what: 'the burst fanned out (before the first answer)' },
    );
    expect(counter(page, 'webhook_delivery_tasks_claimed_total')).toBeGreaterThan(0);
    expect(counter(page, 'webhook_delivery_tasks_claimed_total')).toBeLessThanOrEqual(CLAIM_HEADROOM);
    await eventually(() => paths.every((p) => ids.every((id) => h.received(p).has(id))), { timeoutMs: 90_000, what: 'every delivery' });
    expect(h.consumer.requests.length).toBe(600);
  });
});
