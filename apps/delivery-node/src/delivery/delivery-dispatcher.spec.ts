import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import type { WebhookSnapshot } from '@app/domain';
import { DeliveryMetrics } from '../delivery-metrics';
import { WebhookIndex } from '../webhook-index/webhook-index';
import { SqlDatabase, WebhooksRepository } from '@app/persistence';
import { ACCOUNT_HELD_MAX, DeliveryDispatcher, UNATTEMPTED_ERROR } from './delivery-dispatcher';
import type { DeliveryExecutor } from './delivery-executor';
import type { DeliveryItem } from './delivery-item';
import type { DeliveryRecorder } from './delivery-recorder';

const until = async (cond: () => boolean) => {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

function setup(dbRows: (sql: string) => unknown[] | Error) {
  const index = new WebhookIndex();
  const states: { status: string; next: Date | null; error: string | null; item: DeliveryItem }[] = [];
  const recorder = {
    state: async (item: DeliveryItem, status: string, next: Date | null, error: string | null = null) => void states.push({ item, status, next, error }),
    attempt: async () => undefined,
  } as unknown as DeliveryRecorder;
  let sends = 0;
  let release!: () => void;
  const executor = {
    attempt: () => {
      sends++;
      return new Promise((resolve) => (release = () => resolve({ success: true, statusCode: 200, latencyMs: 1 })));
    },
    forget: () => undefined,
  } as unknown as DeliveryExecutor;
  const db = {
    query: async (sql: string) => {
      const r = dbRows(sql);
      if (r instanceof Error) throw r;
      return r;
    },
  } as unknown as SqlDatabase;
  const dispatcher = new DeliveryDispatcher(index, executor, recorder, new DeliveryMetrics(new Registry()), new WebhooksRepository(db));
  return { index, dispatcher, states, sends: () => sends, release: () => release() };
}

const item = (webhookId: string, accountId = 'acct', settled: string[] = []): DeliveryItem => {
  const task = { event_id: randomUUID(), webhook_id: webhookId, account_id: accountId, type: 'identity.approved', time: new Date().toISOString(), is_test: false };
  return { task, partition: 0, attemptsBefore: 0, settle: () => void settled.push(task.event_id), release: () => undefined };
};

const hook = (id: string, over: Partial<WebhookSnapshot> = {}): WebhookSnapshot => ({
  id,
  account_id: 'acct',
  url: 'https://x.example.com',
  auth_type: 'API_KEY',
  api_key: { header: 'X', key_enc: 'k' },
  oauth: null,
  event_types: ['identity.*'],
  rate_limit: 100,
  status: 'ACTIVE',
  signing_secret_enc: 's',
  version: 1,
  updated_at: '',
  ...over,
});

/** A webhook whose every attempt throws before anything is sent (its secret does not decrypt). */
function brokenWebhook() {
  const index = new WebhookIndex();
  index.apply({ kind: 'put', webhook: hook('broken') });
  const executor = {
    attempt: async () => {
      throw new Error('secret does not decrypt');
    },
    forget: () => undefined,
  } as unknown as DeliveryExecutor;
  return { index, executor };
}

describe('DeliveryDispatcher', () => {
  beforeAll(() => Logger.overrideLogger(['error']));

  it('a delivery for a webhook the index does not know yet waits while the database knows it; never FAILED for it', async () => {
    const t = setup(() => [{ '?column?': 1 }]);
    const settled: string[] = [];
    t.dispatcher.admit(item('new-hook', 'acct', settled));
    await until(() => settled.length === 1);
    expect(t.states).toHaveLength(1);
    expect(t.states[0].status).toBe('PENDING');
    expect(t.states[0].next!.getTime()).toBeGreaterThan(Date.now());
    expect(t.sends()).toBe(0);
  });

  it('the same wait while the database cannot answer', async () => {
    const t = setup(() => new Error('connect ECONNREFUSED'));
    const settled: string[] = [];
    t.dispatcher.admit(item('new-hook', 'acct', settled));
    await until(() => settled.length === 1);
    expect(t.states[0].status).toBe('PENDING');
  });

  it('a webhook the database does not know (deleted) is FAILED with a reason', async () => {
    const t = setup(() => []);
    const settled: string[] = [];
    t.dispatcher.admit(item('gone', 'acct', settled));
    await until(() => settled.length === 1);
    expect(t.states[0]).toMatchObject({ status: 'FAILED', error: expect.stringMatching(/deleted|not active/) });
  });

  it("bounds one webhook's lane and one account's held deliveries per partition; the rest is parked", async () => {
    const t = setup(() => []);
    for (let i = 0; i < 10; i++) t.index.apply({ kind: 'put', webhook: hook(`h${i}`) });
    t.index.apply({ kind: 'put', webhook: hook('other', { account_id: 'other-acct' }) });
    const results = Array.from({ length: 400 }, () => t.dispatcher.admit(item('h0')));
    const queued = results.filter((r) => r === 'queued').length;
    expect(queued).toBe(250); // a lane holds a few seconds of sends, far below a partition's budget
    expect(t.dispatcher.fullWebhooks()).toEqual(['h0']);
    let accountQueued = queued;
    for (let h = 1; h < 10; h++) for (let i = 0; i < 100; i++) if (t.dispatcher.admit(item(`h${h}`)) === 'queued') accountQueued++;
    expect(accountQueued).toBe(ACCOUNT_HELD_MAX);
    // The retry scanner leaves every webhook of the capped account be, not only the one with a full lane.
    expect(t.dispatcher.fullWebhooks().sort()).toEqual(Array.from({ length: 10 }, (_, h) => `h${h}`).sort());
    // Another account is not affected by this one's backlog, nor is this account on another partition.
    expect(t.dispatcher.admit(item('other', 'other-acct'))).toBe('queued');
    expect(t.dispatcher.admit({ ...item('h9'), partition: 1 })).toBe('queued');
  });

  it('a send in flight when its partition is handed back goes on to its answer and is recorded before the hand-back completes', async () => {
    const index = new WebhookIndex();
    index.apply({ kind: 'put', webhook: hook('h') });
    const fence = { owned: true, leased: true, mayDeliver: () => fence.owned, mayContinue: () => fence.leased };
    let guard!: { mayStart: () => boolean; mayContinue: () => boolean };
    let answer!: () => void;
    const executor = {
      attempt: (_w: unknown, _t: unknown, _a: unknown, g: typeof guard) => {
        guard = g;
        return new Promise((resolve) => (answer = () => resolve({ success: true, statusCode: 200, latencyMs: 1 })));
      },
      forget: () => undefined,
    } as unknown as DeliveryExecutor;
    const recorded: string[] = [];
    const recorder = { attempt: async (_i: unknown, _o: unknown, status: string) => void recorded.push(status) } as unknown as DeliveryRecorder;
    const dispatcher = new DeliveryDispatcher(index, executor, recorder, new DeliveryMetrics(new Registry()), {} as WebhooksRepository, fence);
    const settled: string[] = [];
    const released: string[] = [];
    dispatcher.admit({ ...item('h', 'acct', settled), release: () => void released.push('released') });
    await until(() => guard !== undefined);

    fence.owned = false; // handed back: no new send may start, this one may finish under the lease
    expect(guard.mayStart()).toBe(false);
    expect(guard.mayContinue()).toBe(true);
    const handBack = dispatcher.inFlightSettled(new Set([0]));
    answer();
    await handBack;
    expect({ recorded, settled: settled.length, released }).toEqual({ recorded: ['SUCCEEDED'], settled: 1, released: [] });

    fence.leased = false; // the fence tripped: a send still in flight would be cut
    expect(guard.mayContinue()).toBe(false);
  });

  it('a hand-back waits for an answered send to be recorded however long that takes, and gives up only on an unanswered one', async () => {
    // The row's claim may run out while its outcome cannot be written: only the lease, kept until
    // the hand-back completes, stops the next owner from sending it again.
    const index = new WebhookIndex();
    index.apply({ kind: 'put', webhook: hook('h') });
    index.apply({ kind: 'put', webhook: hook('slow') });
    let recordingDone!: () => void;
    const recorded: string[] = [];
    const recorder = {
      attempt: (_i: unknown, _o: unknown, status: string) => new Promise<void>((resolve) => (recordingDone = () => resolve(void recorded.push(status)))),
    } as unknown as DeliveryRecorder;
    const executor = {
      attempt: (w: { id: string }) => (w.id === 'h' ? Promise.resolve({ success: true, statusCode: 200, latencyMs: 1 }) : new Promise(() => undefined)),
      forget: () => undefined,
    } as unknown as DeliveryExecutor;
    const dispatcher = new DeliveryDispatcher(index, executor, recorder, new DeliveryMetrics(new Registry()), {} as WebhooksRepository);
    const quiet = [jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined), jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined)];
    dispatcher.admit(item('h'));
    await until(() => recordingDone !== undefined);
    let handedBack = false;
    const handBack = dispatcher.inFlightSettled(new Set([0]), 50).then(() => (handedBack = true));
    await new Promise((r) => setTimeout(r, 300)); // six times the bound on sends
    expect(handedBack).toBe(false);
    recordingDone();
    await handBack;
    expect(recorded).toEqual(['SUCCEEDED']);

    // An unanswered send past the bound is given up on (its own timeout and the fence end it).
    dispatcher.admit({ ...item('slow'), partition: 1 });
    await dispatcher.inFlightSettled(new Set([1]), 50);
    for (const spy of quiet) spy.mockRestore();
  });

  it("drops every lane idle past its rate-limit window, a live webhook's too, and forgets the secrets of webhooks no longer ours", async () => {
    const index = new WebhookIndex();
    for (const id of ['kept', 'deleted', 'moved']) index.apply({ kind: 'put', webhook: hook(id) });
    let answer!: () => void;
    const forgotten: string[] = [];
    const executor = {
      attempt: () => new Promise((resolve) => (answer = () => resolve({ success: true, statusCode: 200, latencyMs: 1 }))),
      forget: (id: string) => void forgotten.push(id),
    } as unknown as DeliveryExecutor;
    const recorder = { attempt: async () => undefined } as unknown as DeliveryRecorder;
    const ours = new Set([0]); // partition 1 ('moved') is handed away below
    const fence = { mayDeliver: (p: number) => ours.has(p) || p === 1, mayContinue: () => true };
    const dispatcher = new DeliveryDispatcher(index, executor, recorder, new DeliveryMetrics(new Registry()), {} as WebhooksRepository, fence);
    const settled: string[] = [];
    const send = async (id: string, partition = 0) => {
      answer = undefined as never;
      dispatcher.admit({ ...item(id), partition, settle: () => void settled.push(id) });
      await until(() => answer !== undefined);
    };
    await send('kept');
    answer();
    await send('moved', 1);
    answer();
    await send('deleted');
    index.apply({ kind: 'delete', id: 'deleted' }); // while its send is in flight: the lane stays until it is done
    expect(dispatcher.laneCount).toBe(3);
    answer();
    await until(() => settled.length === 3);
    fence.mayDeliver = (p: number) => ours.has(p); // partition 1 is no longer ours
    const idleAt = Date.now();
    expect(dispatcher.laneCount).toBe(3); // kept past their rate-limit window
    await until(() => dispatcher.laneCount === 0);
    expect(Date.now() - idleAt).toBeGreaterThanOrEqual(1900);
    // The deleted one's secrets went with the index's delete, the moved one's with its lane; the live one's stay.
    expect(forgotten.sort()).toEqual(['deleted', 'deleted', 'moved']);
    // The live webhook's next delivery gets a lane afresh.
    await send('kept');
    expect(dispatcher.laneCount).toBe(1);
    answer();
    await until(() => settled.length === 4);
  });

  it('keeps a lane that went busy again within the window, and drops it only once idle for a whole one', async () => {
    const index = new WebhookIndex();
    index.apply({ kind: 'put', webhook: hook('busy') });
    let answer!: () => void;
    const executor = {
      attempt: () => new Promise((resolve) => (answer = () => resolve({ success: true, statusCode: 200, latencyMs: 1 }))),
      forget: () => undefined,
    } as unknown as DeliveryExecutor;
    const recorder = { attempt: async () => undefined } as unknown as DeliveryRecorder;
    const dispatcher = new DeliveryDispatcher(index, executor, recorder, new DeliveryMetrics(new Registry()), {} as WebhooksRepository);
    let settled = 0;
    const send = async () => {
      answer = undefined as never;
      dispatcher.admit({ ...item('busy'), settle: () => void settled++ });
      await until(() => answer !== undefined);
      answer();
      await until(() => settled > 0);
      settled = 0;
    };
    await send();
    await new Promise((r) => setTimeout(r, 1500));
    await send(); // idle again 1.5 s after the first time: its drop waits for a whole window from now
    const lastIdle = Date.now();
    await until(() => dispatcher.laneCount === 0);
    expect(Date.now() - lastIdle).toBeGreaterThanOrEqual(1900);
  });

  it("drops a gone webhook's lane however it goes idle: a hand-back of its partition, or a lane made only to park", async () => {
    const t = setup(() => []);
    const settled: string[] = [];
    // Hand-back: one send answered, the next waiting for its turn (rate 1), then the webhook goes
    // and its partition is handed back: no send ends after that, so only the hand-back can drop it.
    t.index.apply({ kind: 'put', webhook: hook('handed-back', { rate_limit: 1 }) });
    t.dispatcher.admit(item('handed-back', 'acct', settled));
    await until(() => t.sends() === 1);
    const waiting = item('handed-back', 'acct', settled);
    expect(t.dispatcher.admit(waiting)).toBe('queued');
    t.release();
    await until(() => settled.length === 1);
    t.index.apply({ kind: 'delete', id: 'handed-back' });
    expect(t.dispatcher.releasePartitions(new Set([0]))).toEqual([waiting]);
    // Park only: the account holds its most, so a delivery of a deleted webhook is parked in a lane
    // made for it, which never sends.
    for (let h = 0; h < 10; h++) t.index.apply({ kind: 'put', webhook: hook(`h${h}`) });
    for (let h = 0; h < 10; h++) for (let i = 0; i < 250; i++) t.dispatcher.admit(item(`h${h}`));
    const lanesBefore = t.dispatcher.laneCount;
    expect(t.dispatcher.admit(item('never-known'))).toBe('parked');
    expect(t.dispatcher.laneCount).toBe(lanesBefore + 1);
    // Both dropped once past their rate-limit window. The live webhooks' lanes stay while their
    // account holds its most, the ones made only to park (h2..h9) too: the retry scanner keeps
    // leaving their due rows be.
    await until(() => t.dispatcher.laneCount === lanesBefore - 1);
    await new Promise((r) => setTimeout(r, 2500));
    expect(t.dispatcher.laneCount).toBe(10);
    expect(t.dispatcher.fullWebhooks().sort()).toEqual(Array.from({ length: 10 }, (_, h) => `h${h}`).sort());
  });

  it('an attempt that throws is a failed attempt: retried on the usual schedule, FAILED after 24 hours, never handed back to spin', async () => {
    const { index, executor } = brokenWebhook();
    const recorded: { item: DeliveryItem; outcome: { success: boolean; error?: string }; status: string; next: Date | null }[] = [];
    const recorder = {
      attempt: async (item: DeliveryItem, outcome: { success: boolean; error?: string }, status: string, next: Date | null) => void recorded.push({ item, outcome, status, next }),
    } as unknown as DeliveryRecorder;
    const dispatcher = new DeliveryDispatcher(index, executor, recorder, new DeliveryMetrics(new Registry()), {} as WebhooksRepository);
    const released: (number | undefined)[] = [];
    const settled: string[] = [];
    const fresh = { ...item('broken', 'acct', settled), release: (d?: number) => void released.push(d) };
    const old = { ...item('broken', 'acct', settled), attemptsBefore: 30, firstAttemptAt: Date.now() - 25 * 3600_000, release: (d?: number) => void released.push(d) };
    dispatcher.admit(fresh);
    dispatcher.admit(old);
    await until(() => settled.length === 2);
    expect(released).toEqual([]);
    const byEvent = new Map(recorded.map((r) => [r.item.task.event_id, r]));
    expect(byEvent.get(fresh.task.event_id)).toMatchObject({ outcome: { success: false, error: UNATTEMPTED_ERROR }, status: 'PENDING' });
    expect(byEvent.get(fresh.task.event_id)!.next!.getTime()).toBeGreaterThan(Date.now());
    expect(byEvent.get(old.task.event_id)).toMatchObject({ status: 'FAILED', next: null });
  });

  it('an attempt that throws and cannot be recorded either is handed back with a delay, so it never spins', async () => {
    const { index, executor } = brokenWebhook();
    const recorder = {
      attempt: async () => {
        throw new Error('recorder broken');
      },
    } as unknown as DeliveryRecorder;
    const dispatcher = new DeliveryDispatcher(index, executor, recorder, new DeliveryMetrics(new Registry()), {} as WebhooksRepository);
    const delays: (number | undefined)[] = [];
    dispatcher.admit({ ...item('broken'), release: (d?: number) => void delays.push(d) });
    await until(() => delays.length === 1);
    expect(delays[0]).toBeGreaterThanOrEqual(1000);
  });
});
