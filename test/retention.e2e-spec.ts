import { Client } from 'pg';
import { createConfigServiceApp } from '../apps/config-service/src/main';
import { RETENTION_LOCK_KEY, RetentionService } from '../apps/config-service/src/retention/retention.service';
import { ApiClient, eventually, listen, testWebhook } from '@app/testing';
import { useHarness } from './support/harness';

/**
 * Retention against real PostgreSQL: rows past RETENTION_DAYS go in small batches, recent and live
 * rows stay, and the delivery path's transactions never wait for the pruner.
 */

jest.setTimeout(180_000);

describe('retention', () => {
  // A long interval: the test runs the pruner itself, except where it checks the schedule.
  const h = useHarness({ env: { RETENTION_DAYS: '30', RETENTION_INTERVAL_MS: '3600000' }, config: true });
  let dev: ApiClient;
  let accountId: string;
  let hookA: string;
  let hookB: string;

  beforeAll(async () => {
    ({ accountId, dev } = await h.tenant('archivist'));
    hookA = (await dev.post('/v2/webhooks', testWebhook('a'))).body.id;
    hookB = (await dev.post('/v2/webhooks', testWebhook('b'))).body.id;
  });

  const retention = () => h.config.get(RetentionService);

  /** Events of one tag received `daysAgo` days ago, each with a delivery (and an attempt) per given status. */
  async function seed(tag: string, count: number, daysAgo: number, deliveries: { webhook: string; status: string }[]): Promise<string[]> {
    const rows = await h.platform.sql<{ id: string }>(
      `insert into events (id, account_id, type, object_type, object, created_at, received_at)
       select gen_random_uuid(), $1, 'identity.approved', 'identity', jsonb_build_object('tag', $2::text), now() - make_interval(days => $3), now() - make_interval(days => $3)
         from generate_series(1, $4) returning id`,
      [accountId, tag, daysAgo, count],
    );
    const ids = rows.map((r) => r.id);
    for (const d of deliveries) {
      await h.platform.sql(
        `insert into deliveries (event_id, webhook_id, account_id, partition, status, attempts, created_at)
         select e.id, $2, e.account_id, 0, $3, 1, e.received_at from events e where e.id = any($1::uuid[])`,
        [ids, d.webhook, d.status],
      );
      await h.platform.sql(
        `insert into delivery_attempts (event_id, webhook_id, account_id, attempt, success, status_code, latency_ms, created_at)
         select e.id, $2, e.account_id, 1, $3 = 'SUCCEEDED', 200, 5, e.received_at from events e where e.id = any($1::uuid[])`,
        [ids, d.webhook, d.status],
      );
    }
    return ids;
  }

  const count = async (table: string, where: string, params: unknown[]) =>
    (await h.platform.sql<{ n: number }>(`select count(*)::int as n from ${table} where ${where}`, params))[0].n;
  const eventsTagged = (tag: string) => count('events', `object->>'tag' = $1`, [tag]);
  const deliveriesOf = (ids: string[]) => count('deliveries', 'event_id = any($1::uuid[])', [ids]);
  const attemptsOf = (ids: string[]) => count('delivery_attempts', 'event_id = any($1::uuid[])', [ids]);

  /** A connection that behaves like the delivery path: short transactions that give up after `lock_timeout`. */
  async function deliveryPath(): Promise<Client> {
    const client = new Client({ connectionString: h.platform.db.url });
    await client.connect();
    return client;
  }

  /** Fails the test instead of hanging when the pruner waits on a lock. */
  function quickly<T>(work: Promise<T>, ms = 20_000): Promise<T> {
    return Promise.race([work, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`pruning took over ${ms} ms: it waited`)), ms).unref())]);
  }

  it('prunes finished rows past the window in batches, keeps recent and live ones, and never blocks deliveries meanwhile', async () => {
    const old = await seed('old-done', 2500, 40, [{ webhook: hookA, status: 'SUCCEEDED' }]);
    const oldFailed = await seed('old-failed', 20, 31, [
      { webhook: hookA, status: 'FAILED' },
      { webhook: hookB, status: 'SUCCEEDED' },
    ]);
    const oldPending = await seed('old-pending', 3, 40, [{ webhook: hookA, status: 'PENDING' }]);
    const oldMixed = await seed('old-mixed', 3, 40, [
      { webhook: hookA, status: 'SUCCEEDED' },
      { webhook: hookB, status: 'PENDING' },
    ]);
    const recent = await seed('recent', 50, 29, [{ webhook: hookA, status: 'SUCCEEDED' }]);

    // The delivery path keeps writing live rows while the pruner runs; each write may wait 100 ms at most.
    const path = await deliveryPath();
    let pruning = true;
    let writes = 0;
    const live = [...oldPending, ...oldMixed, ...recent];
    const writer = (async () => {
      while (pruning) {
        await path.query('begin');
        await path.query("set local lock_timeout = '100ms'");
        await path.query('update deliveries set attempts = attempts + 1, updated_at = now() where event_id = any($1::uuid[])', [live]);
        await path.query(`insert into delivery_attempts (event_id, webhook_id, account_id, attempt, success, latency_ms) values ($1, $2, $3, 2, false, 7)`, [
          oldPending[0],
          hookA,
          accountId,
        ]);
        await path.query('commit');
        writes++;
      }
    })();
    let result;
    try {
      result = await quickly(retention().runOnce());
    } finally {
      pruning = false;
      await writer; // rejects if any delivery-path write hit its lock_timeout
      await path.end();
    }
    expect(writes).toBeGreaterThan(0);
    // Attempts: those of the finished deliveries above, and the old-mixed events' finished ones (hook A).
    expect(result).toEqual({ events: 2520, deliveries: 2540, delivery_attempts: 2543 });

    expect(await eventsTagged('old-done')).toBe(0);
    expect(await deliveriesOf([...old, ...oldFailed])).toBe(0);
    expect(await attemptsOf([...old, ...oldFailed])).toBe(0);
    // Live or recent: everything stays, including the old attempts of a delivery still pending.
    expect(await eventsTagged('old-pending')).toBe(3);
    expect(await eventsTagged('old-mixed')).toBe(3);
    expect(await eventsTagged('recent')).toBe(50);
    expect(await deliveriesOf(oldMixed)).toBe(6);
    expect(await attemptsOf(oldPending)).toBe(3 + writes);
    expect(await attemptsOf(recent)).toBe(50);
    // The mixed events' finished attempts (hook A) went with the window; the pending one's stayed.
    expect(await count('delivery_attempts', 'event_id = any($1::uuid[]) and webhook_id = $2', [oldMixed, hookB])).toBe(3);
    expect(await count('delivery_attempts', 'event_id = any($1::uuid[]) and webhook_id = $2', [oldMixed, hookA])).toBe(0);

    const metrics = (await h.api.get('/metrics')).text;
    expect(metrics).toMatch(/webhook_retention_pruned_total\{table="events"\} 2520/);
    expect(metrics).toMatch(/webhook_retention_pruned_total\{table="delivery_attempts"\} \d+/);
  });

  it('skips a row the delivery path holds, without waiting, and takes it on a later run', async () => {
    const [held] = await seed('held', 1, 40, [{ webhook: hookA, status: 'SUCCEEDED' }]);
    const free = await seed('free', 5, 40, [{ webhook: hookA, status: 'FAILED' }]);
    const path = await deliveryPath();
    try {
      // A delivery-path transaction holds the row (as the recorder does while it writes an outcome).
      await path.query('begin');
      await path.query("set local lock_timeout = '500ms'");
      await path.query('update deliveries set attempts = attempts + 1 where event_id = $1', [held]);

      const result = await quickly(retention().runOnce(), 10_000);
      expect(result).toMatchObject({ events: 5 });
      expect(await eventsTagged('free')).toBe(0);
      expect(await deliveriesOf(free)).toBe(0);
      expect(await eventsTagged('held')).toBe(1);

      // The delivery path goes on with its transaction: nothing of it waits (lock_timeout 500 ms).
      await path.query('update deliveries set status = $2, updated_at = now() where event_id = $1', [held, 'SUCCEEDED']);
      await path.query(`insert into delivery_attempts (event_id, webhook_id, account_id, attempt, success, latency_ms) values ($1, $2, $3, 2, true, 9)`, [held, hookA, accountId]);
      await path.query('commit');
    } finally {
      await path.end();
    }
    expect(await deliveriesOf([held])).toBe(1);

    await quickly(retention().runOnce(), 10_000);
    expect(await eventsTagged('held')).toBe(0);
    expect(await deliveriesOf([held])).toBe(0);
  });

  it('runs in one process at a time (advisory lock)', async () => {
    await seed('while-busy', 2, 40, [{ webhook: hookA, status: 'SUCCEEDED' }]);
    const other = await deliveryPath();
    try {
      await other.query('select pg_advisory_lock($1)', [RETENTION_LOCK_KEY]);
      expect(await retention().runOnce()).toBe('busy');
      expect(await eventsTagged('while-busy')).toBe(2);
    } finally {
      await other.end(); // ends the session: the lock is released
    }
    expect(await retention().runOnce()).toMatchObject({ events: 2 });
  });

  it('runs on its schedule, one instance at a time, with several instances up', async () => {
    const scheduled = await seed('scheduled', 30, 45, [{ webhook: hookA, status: 'SUCCEEDED' }]);
    process.env.RETENTION_INTERVAL_MS = '1000';
    try {
      for (let i = 0; i < 2; i++) {
        const app = await createConfigServiceApp();
        h.onClose(() => app.close());
        await listen(app);
      }
    } finally {
      process.env.RETENTION_INTERVAL_MS = '3600000';
    }
    // Events (with their deliveries) go first, then attempts, in the same run.
    await eventually(async () => (await eventsTagged('scheduled')) + (await attemptsOf(scheduled)) === 0, { what: 'scheduled pruning', timeoutMs: 30_000 });
    expect(await deliveriesOf(scheduled)).toBe(0);
  });

  it('says how far back data goes on the routes that list events and attempts', async () => {
    for (const path of ['/v2/events', `/v2/webhooks/${hookA}/deliveries`]) {
      const res = await dev.get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('webhooks-retention-days')).toBe('30');
    }
    const [recent] = await seed('detail', 1, 1, []);
    const one = await dev.get(`/v2/events/${recent}`);
    expect(one.status).toBe(200);
    expect(one.headers.get('webhooks-retention-days')).toBe('30');
    expect((await dev.get('/v2/webhooks')).headers.get('webhooks-retention-days')).toBeNull();
  });
});
