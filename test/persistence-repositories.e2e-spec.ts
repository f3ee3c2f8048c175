import { randomUUID } from 'node:crypto';
import { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { readConfig } from '@app/config';
import {
  AccountsRepository,
  AttemptRecord,
  DeliveriesOrmRepository,
  DeliveriesRepository,
  DeliveryAttemptsOrmRepository,
  ApprovalRequestsRepository,
  DeliveryAttemptsRepository,
  EventsOrmRepository,
  EventsRepository,
  ormConfig,
  WebhooksOrmRepository,
  WebhookOutboxRepository,
  WebhooksRepository,
} from '@app/persistence';
import { boolArray, intArray, textArray, timestampArray, uuidArray } from '../libs/persistence/src/repositories/sql-arrays';
import { Database } from '../apps/delivery-node/src/database';
import { useHarness } from './support/harness';

/**
 * The delivery node's repositories against a real Postgres: each query they own does what its name
 * says, and a failing statement's error reaches the caller unchanged.
 */
describe('delivery repositories', () => {
  const h = useHarness();
  let database: Database;
  let accounts: AccountsRepository;
  let webhooks: WebhooksRepository;
  let deliveries: DeliveriesRepository;
  let events: EventsRepository;
  let attempts: DeliveryAttemptsRepository;
  const accountA = randomUUID();
  const accountB = randomUUID();
  const hook = randomUUID();
  const deletedHook = randomUUID();

  const event = (account = accountA, id = randomUUID()) => ({
    id,
    account_id: account,
    type: 'transfer.completed',
    object_type: 'transfer',
    object: { n: 1 },
    time: new Date().toISOString(),
  });
  const delivery = (eventId: string, partition = 3, account = accountA) => ({ eventId, webhookId: hook, accountId: account, partition });
  const attempt = (eventId: string, over: Partial<AttemptRecord> = {}): AttemptRecord => ({
    eventId,
    webhookId: hook,
    accountId: accountA,
    attempt: 1,
    success: false,
    statusCode: 500,
    error: null,
    latencyMs: 12,
    responseExcerpt: 'oops',
    at: new Date(),
    attemptKey: randomUUID(),
    status: 'PENDING',
    next: new Date(Date.now() - 1000),
    lastError: 'HTTP 500',
    ...over,
    startedAt: over.startedAt ?? new Date((over.at ?? new Date()).getTime() - (over.latencyMs ?? 12)),
  });
  const row = async (eventId: string) => (await database.query('select * from deliveries where event_id = $1 and webhook_id = $2', [eventId, hook]))[0];

  beforeAll(async () => {
    database = new Database({ ...readConfig({}), databaseUrl: h.platform.db.url });
    h.onClose(() => database.onApplicationShutdown());
    accounts = new AccountsRepository(database);
    webhooks = new WebhooksRepository(database);
    deliveries = new DeliveriesRepository(database);
    events = new EventsRepository(database, deliveries);
    attempts = new DeliveryAttemptsRepository(database);
    await database.query(`insert into accounts (id, name) values ($1, 'a'), ($2, 'b')`, [accountA, accountB]);
    const webhook = `insert into webhooks (id, account_id, name, url, auth_type, api_key_header, api_key_enc, event_types, rate_limit, status, signing_secret_enc, slot, deleted_at)
      values ($1, $2, 'w', 'https://example.com', 'API_KEY', 'x-key', 'enc', '{transfer.completed}', 10, 'ACTIVE', 'enc', $3, $4)`;
    await database.query(webhook, [hook, accountA, 1, null]);
    await database.query(webhook, [deletedHook, accountA, null, new Date()]);
  });

  it('finds existing accounts and live webhooks', async () => {
    expect((await accounts.findExistingIds([accountA, randomUUID()])).sort()).toEqual([accountA]);
    expect(await webhooks.isLive(hook)).toBe(true);
    expect(await webhooks.isLive(deletedHook)).toBe(false);
    expect(await webhooks.isLive(randomUUID())).toBe(false);
  });

  it('records events with their deliveries once, and refuses an id used by another account', async () => {
    const e1 = event();
    const e2 = event();
    const first = await events.recordEventsWithDeliveries([e1, e2], [delivery(e1.id), delivery(e2.id)]);
    expect(first).toEqual({ foreign: new Set(), repeated: new Set(), recordedAt: expect.any(Number) });
    // The time it gives is its rows' created_at (the mailbox's first-copy window compares it with the message's).
    const [{ created_ms }] = await database.query<{ created_ms: number }>(
      'select (extract(epoch from created_at) * 1000)::float8 as created_ms from deliveries where event_id = $1',
      [e1.id],
    );
    expect(first.recordedAt).toBeCloseTo(Number(created_ms), 3);
    // Again: nothing new, nothing refused, and e1 said to be recorded before (its deliveries may have been sent).
    const e4 = event();
    expect(await events.recordEventsWithDeliveries([e1, e4], [delivery(e1.id), delivery(e4.id)])).toMatchObject({ foreign: new Set(), repeated: new Set([e1.id]) });
    const stolen = event(accountB, e1.id);
    const e3 = event(accountB);
    const { foreign, repeated } = await events.recordEventsWithDeliveries([stolen, e3], [delivery(stolen.id, 3, accountB), delivery(e3.id, 3, accountB)]);
    expect([...foreign]).toEqual([e1.id]);
    expect([...repeated]).toEqual([]);
    // Two copies of one new id in one batch under two accounts: the first is recorded, the second refused.
    const twin = event();
    expect((await events.recordEventsWithDeliveries([twin, event(accountB, twin.id)], [delivery(twin.id)])).foreign).toEqual(new Set([twin.id]));
    expect(await database.query('select account_id from events where id = $1', [e1.id])).toEqual([{ account_id: accountA }]);
    expect((await row(e1.id)).account_id).toBe(accountA);
    expect((await row(e3.id)).account_id).toBe(accountB);
  });

  it('writes a claimed delivery due when its claim runs out, and keeps a row recorded before as it was', async () => {
    const claimed = event();
    const waiting = event();
    await events.recordEventsWithDeliveries([claimed, waiting], [{ ...delivery(claimed.id), claimSeconds: 45 }, delivery(waiting.id)]);
    const [{ ahead }] = await database.query<{ ahead: number }>(`select extract(epoch from next_attempt_at - now())::float as ahead from deliveries where event_id = $1`, [
      claimed.id,
    ]);
    expect(ahead).toBeGreaterThan(40);
    expect(ahead).toBeLessThanOrEqual(45);
    expect(await row(waiting.id)).toMatchObject({ status: 'PENDING', next_attempt_at: null });
    // Recorded again, claimed the other way round: a repeated event's rows are not rewritten.
    const before = (await row(claimed.id)).next_attempt_at;
    expect(await events.recordEventsWithDeliveries([claimed, waiting], [delivery(claimed.id), { ...delivery(waiting.id), claimSeconds: 45 }])).toMatchObject({
      foreign: new Set(),
      repeated: new Set([claimed.id, waiting.id]),
    });
    expect((await row(claimed.id)).next_attempt_at).toEqual(before);
    expect(await row(waiting.id)).toMatchObject({ next_attempt_at: null });
    // A repeated event with a delivery new since (a webhook subscribed in between): written
    // unclaimed, since its task goes out as a copy to recheck, which sends only unclaimed rows.
    await database.query('delete from deliveries where event_id = $1', [waiting.id]);
    await events.recordEventsWithDeliveries([waiting], [{ ...delivery(waiting.id), claimSeconds: 45 }]);
    expect(await row(waiting.id)).toMatchObject({ status: 'PENDING', next_attempt_at: null });
  });

  it('settles an event that another fan-out commits while the recording waits on it: recorded before, or foreign', async () => {
    // The one statement's snapshot cannot see a row committed while it waited on its conflict.
    for (const [account, expected] of [
      [accountA, { repeated: true, foreign: false, deliveries: 1 }],
      [accountB, { repeated: false, foreign: true, deliveries: 0 }],
    ] as const) {
      const theirs = event(account);
      const ours = event();
      const other = await database.pool.connect();
      try {
        await other.query('begin');
        await other.query(`insert into events (id, account_id, type, object_type, object, created_at) values ($1, $2, 'transfer.completed', 'transfer', '{}', now())`, [
          theirs.id,
          account,
        ]);
        const recording = events.recordEventsWithDeliveries([{ ...theirs, account_id: accountA }, ours], [delivery(theirs.id), delivery(ours.id)]);
        // The recording waits on the uncommitted row; commit once it is seen waiting.
        const deadline = Date.now() + 10_000;
        while (!(await database.query(`select 1 from pg_stat_activity where wait_event_type = 'Lock' and query like '%jsonb_to_recordset%'`)).length) {
          if (Date.now() > deadline) throw new Error('the recording never waited on the uncommitted event');
          await new Promise((r) => setTimeout(r, 20));
        }
        await other.query('commit');
        const { repeated, foreign } = await recording;
        expect({ repeated: repeated.has(theirs.id), foreign: foreign.has(theirs.id) }).toEqual({ repeated: expected.repeated, foreign: expected.foreign });
        expect([...repeated, ...foreign]).not.toContain(ours.id);
        expect(await database.query('select count(*)::int as n from deliveries where event_id = $1', [theirs.id])).toEqual([{ n: expected.deliveries }]);
        expect((await row(ours.id)).status).toBe('PENDING');
      } finally {
        other.release();
      }
    }
  });

  it('reads the array literals of batch statements back as written, whatever the text', async () => {
    const texts = ['plain', '', 'NULL', 'null', 'a,b', '{x}', '"quoted"', 'back\\slash', '\\"', ' spaced ', 'line\nbreak\ttab', 'ünï €', '😀', null];
    const { rows } = await database.pool.query<{ t: string | null }>('select t from unnest($1::text[]) with ordinality as u(t, n) order by n', [textArray(texts)]);
    expect(rows.map((r) => r.t)).toEqual(texts);
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
    const { rows: typed } = await database.pool.query('select $1::uuid[] as u, $2::int[] as i, $3::bool[] as b, $4::timestamptz[] as t', [
      uuidArray([hook.toUpperCase()]),
      intArray([0, -7, null, 2 ** 31 - 1]),
      boolArray([true, false]),
      timestampArray([at, null]),
    ]);
    expect(typed[0]).toEqual({ u: [hook], i: [0, -7, null, 2 ** 31 - 1], b: [true, false], t: [at, null] });
  });

  // The class: a planner estimate over jit_above_cost makes PostgreSQL compile a short statement
  // with LLVM (the due-time claim over 1,024 partitions: 300-570 ms a call instead of about 1 ms).
  // Every session of ours runs without JIT, whatever a statement's estimate.
  it('plans no JIT compilation on its sessions, even for a statement the planner thinks costly', async () => {
    const planned = async (client: { query: (sql: string) => Promise<unknown> }) => {
      await client.query('begin');
      try {
        await client.query('set local jit_above_cost = 0'); // every statement over the threshold
        const res = (await client.query('explain (format json) select count(*) from deliveries where partition = any(array[1, 2, 3])')) as { rows: unknown[] };
        return JSON.stringify(res.rows);
      } finally {
        await client.query('rollback');
      }
    };
    const ours = await database.pool.connect();
    try {
      expect(await planned(ours)).not.toContain('"JIT"');
    } finally {
      ours.release();
    }
    // The control: a session with PostgreSQL's defaults does plan it, so the check above can fail.
    const plain = new Client({ connectionString: h.platform.db.url });
    await plain.connect();
    try {
      expect(await planned(plain)).toContain('"JIT"');
    } finally {
      await plain.end();
    }
  });

  it('passes a failing statement error on unchanged and writes nothing of the batch', async () => {
    const e = event();
    await expect(events.recordEventsWithDeliveries([e], [{ ...delivery(e.id), partition: 2 ** 31 }])).rejects.toMatchObject({ code: '22003' });
    expect(await database.query('select 1 from events where id = $1', [e.id])).toEqual([]);
  });

  it('records an attempt batch in one statement, once per attempt key, and changes states of PENDING rows', async () => {
    const e1 = event();
    const e2 = event();
    await events.recordEventsWithDeliveries([e1, e2], [delivery(e1.id), delivery(e2.id)]);
    const first = attempt(e1.id);
    await attempts.recordAttemptBatch([first], [{ eventId: e2.id, webhookId: hook, status: 'FAILED', next: null, error: 'gone' }], 'node-1');
    await attempts.recordAttemptBatch([first], [], 'node-1'); // the same batch again: adds nothing
    expect(await row(e1.id)).toMatchObject({ status: 'PENDING', attempts: 1, last_status_code: 500, last_error: 'HTTP 500' });
    expect(await row(e2.id)).toMatchObject({ status: 'FAILED', attempts: 0, last_error: 'gone' });
    expect(await database.query('select node_id, response_excerpt from delivery_attempts where event_id = $1', [e1.id])).toEqual([{ node_id: 'node-1', response_excerpt: 'oops' }]);
    await attempts.recordAttemptBatch([attempt(e1.id, { attempt: 2, success: true, statusCode: 200, status: 'SUCCEEDED', next: null, lastError: null })], [], 'node-1');
    expect(await row(e1.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 2, next_attempt_at: null });
    await expect(attempts.recordAttemptBatch([attempt(randomUUID(), { latencyMs: 2 ** 40 })], [], 'node-1')).rejects.toMatchObject({ code: '22003' });
  });

  it('claims due rows of the partitions, counts the overdue ones, and re-drives unscheduled ones', async () => {
    const due = event();
    const later = event();
    const unscheduled = event();
    await events.recordEventsWithDeliveries([due, later, unscheduled], [delivery(due.id, 7), delivery(later.id, 7), delivery(unscheduled.id, 7)]);
    await attempts.recordAttemptBatch(
      [],
      [
        { eventId: due.id, webhookId: hook, status: 'PENDING', next: new Date(Date.now() - 1000), error: null },
        { eventId: later.id, webhookId: hook, status: 'PENDING', next: new Date(Date.now() + 60_000), error: null },
      ],
      'node-1',
    );
    expect(await deliveries.countOverdue([7])).toBe(1);
    expect(await deliveries.countOverdue([8])).toBe(0);
    const claim = { partitions: [7], limit: 100, leaseSeconds: 45, skipWebhooks: [] as string[], perWebhook: 50 };
    expect(await deliveries.claimDue({ ...claim, skipWebhooks: [hook] })).toEqual([]);
    const claimed = await deliveries.claimDue(claim);
    expect(claimed).toEqual([
      expect.objectContaining({ event_id: due.id, webhook_id: hook, account_id: accountA, partition: 7, attempts: 0, type: 'transfer.completed', is_test: false }),
    ]);
    expect(claimed[0].created_at).toBeInstanceOf(Date);
    expect(await deliveries.claimDue(claim)).toEqual([]); // leased for 45 s

    // Whole milliseconds: the page position comes back as a JS Date.
    await database.query(`update deliveries set created_at = date_trunc('milliseconds', now() - interval '1 hour') where event_id = $1`, [unscheduled.id]);
    const page = await deliveries.findUnscheduled([7], 60, 10);
    expect(page.map((r) => r.event_id)).toEqual([unscheduled.id]);
    expect(await deliveries.findUnscheduled([7], 60, 10, page[0])).toEqual([]);
    // Bounded by creation time (a copy of its task may still be on its way): not made due.
    expect(await deliveries.markUnscheduledDue(page, new Date(Date.now() - 2 * 3600_000))).toBe(0);
    expect(await row(unscheduled.id)).toMatchObject({ next_attempt_at: null });
    expect(await deliveries.markUnscheduledDue(page, new Date())).toBe(1);
    expect(await deliveries.markUnscheduledDue(page)).toBe(0);
    expect(await deliveries.countOverdue([7])).toBe(1); // the re-driven row; the claimed one is not due again yet
  });

  describe('on the config service connection (MikroORM)', () => {
    let orm: MikroORM;
    let ormEvents: EventsOrmRepository;
    let ormDeliveries: DeliveriesOrmRepository;
    let attemptLog: DeliveryAttemptsOrmRepository;
    let ormWebhooks: WebhooksOrmRepository;

    beforeAll(async () => {
      orm = await MikroORM.init(ormConfig(h.platform.db.url, { poolMax: 2 }));
      h.onClose(() => orm.close());
      const em = orm.em.fork();
      ormEvents = new EventsOrmRepository(em);
      ormDeliveries = new DeliveriesOrmRepository(em);
      attemptLog = new DeliveryAttemptsOrmRepository(em);
      ormWebhooks = new WebhooksOrmRepository(em);
    });

    it('runs its sessions without JIT compilation', async () => {
      expect(await orm.em.fork().getConnection().execute('show jit')).toEqual([{ jit: 'off' }]);
    });

    it('finds live webhooks of an account', async () => {
      expect(await ormWebhooks.findLiveForAccount(hook, accountA)).toEqual({ id: hook, status: 'ACTIVE' });
      expect(await ormWebhooks.findLiveForAccount(hook, accountB)).toBeUndefined();
      expect(await ormWebhooks.findLiveForAccount(deletedHook, accountA)).toBeUndefined();
      expect(await ormWebhooks.listIdsForAccount(accountA, ['ACTIVE'])).toEqual([hook]);
      expect(await ormWebhooks.listIdsForAccount(accountA, ['ERROR'])).toEqual([]);
    });

    it('records a test event with its delivery, pages events by filter and position, and requeues', async () => {
      const id = randomUUID();
      const at = new Date('2030-01-02T03:04:05.678Z');
      await orm.em.fork().transactional(async (em) => {
        await ormEvents.insertTest({ id, accountId: accountB, type: 'transfer.completed', objectType: 'transfer', object: { test: true }, createdAt: at }, em);
        await ormDeliveries.insert({ eventId: id, webhookId: hook, accountId: accountB, partition: 2 }, em);
      });
      expect(await ormEvents.existsForAccount(id, accountB)).toBe(true);
      expect(await ormEvents.existsForAccount(id, accountA)).toBe(false);
      expect(await ormEvents.findForAccount(id, accountB)).toMatchObject({ id, is_test: true, object: { test: true }, undelivered_webhooks: 1 });
      expect(await ormEvents.findForAccount(id, accountA)).toBeUndefined();

      const later = randomUUID();
      await ormEvents.insertTest({ id: later, accountId: accountB, type: 'transfer.failed', objectType: 'transfer', object: {}, createdAt: new Date(at.getTime() + 1000) });
      const page = (q: Partial<Parameters<EventsOrmRepository['listForAccount']>[0]>) =>
        ormEvents.listForAccount({ accountId: accountB, isTest: true, created: [], order: 'ASC', limit: 10, ...q }).then((rows) => rows.map((r) => r.id));
      expect(await page({})).toEqual([id, later]);
      expect(await page({ order: 'DESC', limit: 1 })).toEqual([later]);
      expect(await page({ after: { createdAt: at, id } })).toEqual([later]);
      expect(await page({ order: 'DESC', after: { createdAt: new Date(at.getTime() + 1000), id: later } })).toEqual([id]);
      expect(
        await page({
          created: [
            { op: '>=', at },
            { op: '<', at: new Date(at.getTime() + 1000) },
          ],
        }),
      ).toEqual([id]);
      expect(await page({ type: 'transfer.failed' })).toEqual([later]);
      expect(await page({ isTest: false })).not.toContain(id);

      expect(await ormDeliveries.listUnsucceededWebhookIds(id)).toEqual([hook]);
      await database.query(`update deliveries set status = 'FAILED', first_attempt_at = now() where event_id = $1`, [id]);
      await ormDeliveries.requeue({ eventId: id, webhookId: hook, accountId: accountB, partition: 2 });
      expect(await row(id)).toMatchObject({ status: 'PENDING', first_attempt_at: null, next_attempt_at: expect.any(Date) });
      // A row still waiting for its first send is left as it is: its task is on its way (and may be
      // sent unchecked), so making it due too would send it twice.
      await database.query(`update deliveries set next_attempt_at = null where event_id = $1`, [id]);
      await ormDeliveries.requeue({ eventId: id, webhookId: hook, accountId: accountB, partition: 2 });
      expect(await row(id)).toMatchObject({ status: 'PENDING', next_attempt_at: null });
      await ormDeliveries.markDue(id, hook);
      expect((await row(id)).next_attempt_at).toEqual(expect.any(Date));
    });

    it('an attempt that started before a requeue leaves the row due; one that started after settles it', async () => {
      const id = randomUUID();
      await ormEvents.insertTest({ id, accountId: accountB, type: 'transfer.completed', objectType: 'transfer', object: {}, createdAt: new Date() });
      await ormDeliveries.insert({ eventId: id, webhookId: hook, accountId: accountB, partition: 2 });
      await database.query(`update deliveries set status = 'SUCCEEDED', next_attempt_at = null, first_attempt_at = now() where event_id = $1`, [id]);
      await ormDeliveries.requeue({ eventId: id, webhookId: hook, accountId: accountB, partition: 2 });
      const done = { eventId: id, success: true, statusCode: 200, status: 'SUCCEEDED', next: null, lastError: null };
      // Sent 5 s ago, answered now: it was on its way when the redelivery was asked for.
      await attempts.recordAttemptBatch([attempt(id, { ...done, latencyMs: 5000 })], [], 'node-1');
      expect(await row(id)).toMatchObject({ status: 'PENDING', first_attempt_at: null });
      // The same from a claim made before the request (the claim's moment, on the database's clock).
      await attempts.recordAttemptBatch([attempt(id, { ...done, latencyMs: 1, startedAt: new Date(Date.now() - 60_000) })], [], 'node-1');
      expect(await row(id)).toMatchObject({ status: 'PENDING', first_attempt_at: null, next_attempt_at: expect.any(Date) });
      expect((await row(id)).next_attempt_at.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      // The redelivery itself, sent after the request.
      await attempts.recordAttemptBatch([attempt(id, { ...done, attempt: 3, latencyMs: 1, at: new Date(Date.now() + 50) })], [], 'node-1');
      expect(await row(id)).toMatchObject({ status: 'SUCCEEDED', next_attempt_at: null, attempts: 3 });
    });

    it('pages a webhook attempt log newest first', async () => {
      const e = event();
      await events.recordEventsWithDeliveries([e], [delivery(e.id)]);
      const t = Date.now();
      await attempts.recordAttemptBatch([attempt(e.id, { at: new Date(t - 2000), next: new Date(t + 60_000) })], [], 'node-1');
      await attempts.recordAttemptBatch([attempt(e.id, { attempt: 2, at: new Date(t - 1000), next: new Date(t + 60_000) })], [], 'node-1');
      const [newest, older] = (await attemptLog.listForWebhook(hook, accountA, 100)).filter((a) => a.event_id === e.id);
      expect(newest).toMatchObject({ attempt: 2, event_type: 'transfer.completed', is_test: false, delivery_status: 'PENDING', response_body_excerpt: 'oops' });
      expect(older).toMatchObject({ attempt: 1 });
      const after = await attemptLog.listForWebhook(hook, accountA, 100, { createdAt: new Date(newest.created_at), id: newest.id });
      expect(after.map((a) => a.id)).toContain(older.id);
      expect(after.map((a) => a.id)).not.toContain(newest.id);
      expect(await attemptLog.listForWebhook(hook, accountB, 100)).toEqual([]);
    });

    it('lists unpublished outbox entries in commit order, marks them published, prunes old ones', async () => {
      const outbox = new WebhookOutboxRepository(orm.em.fork());
      const w1 = randomUUID();
      const w2 = randomUUID();
      await database.query(`insert into webhook_outbox (webhook_id, op, payload) values ($1, 'PUT', '{"v":1}'), ($2, 'DELETE', null)`, [w1, w2]);
      expect(await outbox.tryTakeRelayLock(727_001)).toBe(true);
      const rows = await outbox.listUnpublished(10);
      expect(rows.map((r) => [r.webhook_id, r.op, r.payload])).toEqual([
        [w1, 'PUT', { v: 1 }],
        [w2, 'DELETE', null],
      ]);
      expect((await outbox.listUnpublished(1)).map((r) => r.webhook_id)).toEqual([w1]);
      await outbox.markPublished([rows[0].id]);
      expect((await outbox.listUnpublished(10)).map((r) => r.webhook_id)).toEqual([w2]);
      await database.query(`update webhook_outbox set published_at = now() - interval '2 days' where id = $1`, [rows[0].id]);
      await outbox.deletePublishedOlderThan('1 day');
      expect(await database.query('select webhook_id from webhook_outbox')).toEqual([{ webhook_id: w2 }]);
    });

    it('lists concluded, unnotified approval requests oldest first, and marks them notified', async () => {
      const requests = new ApprovalRequestsRepository(orm.em.fork());
      const [older, newer, pending] = [randomUUID(), randomUUID(), randomUUID()];
      const insert = `insert into approval_requests (id, account_id, action, webhook_id, requested_by, required_approvals, status, decided_at)
        values ($1, $2, 'CREATE', $3, 'alice', 1, $4, $5)`;
      await database.query(insert, [newer, accountA, randomUUID(), 'REJECTED', new Date(Date.now() - 1000)]);
      await database.query(insert, [older, accountA, randomUUID(), 'APPROVED', new Date(Date.now() - 2000)]);
      await database.query(insert, [pending, accountA, randomUUID(), 'PENDING', null]);
      const rows = await requests.lockUnnotifiedConcluded(10);
      expect(rows.map((r) => [r.id, r.status, r.action])).toEqual([
        [older, 'APPROVED', 'CREATE'],
        [newer, 'REJECTED', 'CREATE'],
      ]);
      expect(new Date(rows[0].decided_at).getTime()).toBeLessThan(Date.now());
      await requests.markNotified([older]);
      expect((await requests.lockUnnotifiedConcluded(10)).map((r) => r.id)).toEqual([newer]);
    });

    it("runs the statements of a unit of work in the caller's transaction", async () => {
      const outbox = new WebhookOutboxRepository(orm.em.fork());
      const requests = new ApprovalRequestsRepository(orm.em.fork());
      const other = await database.pool.connect();
      try {
        // The relay lock and the locked approval rows hold until the transaction ends.
        const decided = randomUUID();
        await database.query(
          `insert into approval_requests (id, account_id, action, webhook_id, requested_by, required_approvals, status, decided_at) values ($1, $2, 'CREATE', $3, 'bob', 1, 'APPROVED', now())`,
          [decided, accountB, randomUUID()],
        );
        await orm.em.fork().transactional(async (em) => {
          expect(await outbox.tryTakeRelayLock(727_002, em)).toBe(true);
          expect((await other.query('select pg_try_advisory_xact_lock(727002) as locked')).rows[0].locked).toBe(false);
          expect((await requests.lockUnnotifiedConcluded(10, em)).map((r) => r.id)).toContain(decided);
          await other.query('begin');
          const seen = await other.query(`select id from approval_requests where id = $1 for update skip locked`, [decided]);
          await other.query('rollback');
          expect(seen.rows).toEqual([]);
        });
        expect((await other.query('select pg_try_advisory_xact_lock(727002) as locked')).rows[0].locked).toBe(true);

        // A test event whose delivery cannot be written is not recorded either.
        const id = randomUUID();
        await expect(
          orm.em.fork().transactional(async (em) => {
            await ormEvents.insertTest({ id, accountId: accountA, type: 'transfer.completed', objectType: 'transfer', object: {}, createdAt: new Date() }, em);
            await ormDeliveries.insert({ eventId: randomUUID(), webhookId: hook, accountId: accountA, partition: 1 }, em);
          }),
        ).rejects.toThrow(/foreign key/);
        expect(await ormEvents.existsForAccount(id, accountA)).toBe(false);
      } finally {
        other.release();
      }
    });
  });
});
