import { ConsumerWindowLimiter } from '@app/delivery';
import type { DeliveryItem } from './delivery-item';
import { Registry } from 'prom-client';
import { DeliveryMetrics } from '../delivery-metrics';
import { BudgetSlot, BudgetWaiter, NodeSendBudget, SendBudget, SLOW_SEND_MS } from './send-budget';
import { WebhookLane } from './webhook-lane';

const OPTS = { initial: 4, min: 2, max: 64, overloadedLagMs: 100, idleLagMs: 25 };

/** Slots taken, oldest first: `answer()` gives back the oldest. */
let taken: BudgetSlot[] = [];
const answer = (budget: SendBudget) => budget.give(taken.shift()!);

/** A waiter that takes one slot each time it is resumed, while it has sends left. */
function waiter(budget: SendBudget, name: string, sends: number, log: string[]): BudgetWaiter & { left: number } {
  const w = {
    left: sends,
    resume() {
      if (w.left <= 0) return;
      const slot = budget.take(w);
      if (!slot) return;
      taken.push(slot);
      w.left--;
      log.push(name);
    },
  };
  return w;
}

describe('SendBudget', () => {
  beforeEach(() => (taken = []));
  it('lets `limit` sends start, then lines the rest up and wakes them one send per turn, in order', () => {
    const budget = new SendBudget(OPTS);
    const log: string[] = [];
    const a = waiter(budget, 'a', 10, log);
    const b = waiter(budget, 'b', 10, log);
    for (let i = 0; i < 5; i++) a.resume(); // a takes 4, the fifth is refused: a waits
    b.resume(); // b waits behind a
    expect(log).toEqual(['a', 'a', 'a', 'a']);
    expect(budget.sendsInFlight).toBe(4);
    expect(budget.waiters).toBe(2);
    answer(budget); // one slot: a's turn (it waited first), one send
    expect(log.slice(4)).toEqual(['a']);
    answer(budget); // then b's
    expect(log.slice(5)).toEqual(['b']);
    expect(budget.sendsInFlight).toBe(4);
  });

  it('a lane that takes a slot while others wait goes behind them, however often it asks', () => {
    const budget = new SendBudget({ ...OPTS, initial: 1 });
    const log: string[] = [];
    const a = waiter(budget, 'a', 10, log);
    const b = waiter(budget, 'b', 10, log);
    a.resume();
    b.resume(); // waits
    a.resume(); // waits behind b
    a.resume();
    for (let i = 0; i < 4; i++) {
      answer(budget);
      // a woken lane that asks again at once (its pump loop) is refused and lines up behind the other
      const last = log[log.length - 1] === 'a' ? a : b;
      last.resume();
    }
    expect(log).toEqual(['a', 'b', 'a', 'b', 'a']);
  });

  it('a woken waiter that does not send leaves the slot to the next in line', () => {
    const budget = new SendBudget({ ...OPTS, initial: 1 });
    const log: string[] = [];
    const a = waiter(budget, 'a', 1, log);
    const idle = waiter(budget, 'idle', 1, log);
    const b = waiter(budget, 'b', 1, log);
    a.resume();
    idle.resume();
    b.resume();
    idle.left = 0; // by the time its turn comes it has nothing to send
    answer(budget);
    expect(log).toEqual(['a', 'b']);
    expect(budget.waiters).toBe(0);
  });

  it('a forgotten waiter is never woken', () => {
    const budget = new SendBudget({ ...OPTS, initial: 1 });
    const log: string[] = [];
    const a = waiter(budget, 'a', 1, log);
    const gone = waiter(budget, 'gone', 1, log);
    a.resume();
    gone.resume();
    budget.forget(gone);
    answer(budget);
    expect(log).toEqual(['a']);
  });

  it('shrinks while the event loop lags, down to its minimum; grows while it held sends back and the loop keeps up, up to its maximum', () => {
    const budget = new SendBudget({ ...OPTS, initial: 40 }, () => 0); // no send grows slow here;
    budget.adjust(150);
    expect(budget.limit).toBe(32);
    for (let i = 0; i < 50; i++) budget.adjust(500);
    expect(budget.limit).toBe(OPTS.min);
    budget.adjust(5); // nothing was held back: no reason to grow
    expect(budget.limit).toBe(OPTS.min);
    let started = 0;
    const greedy: BudgetWaiter = {
      resume: () => {
        while (budget.take(greedy)) started++; // as a lane's pump loop: until refused (held back); never answered
      },
    };
    greedy.resume();
    for (let i = 0; i < 40; i++) budget.adjust(5);
    expect(budget.limit).toBe(OPTS.max);
    expect(started).toBe(OPTS.max); // each growth woke the waiter into the new room
    budget.adjust(60); // between the two marks: unchanged
    expect(budget.limit).toBe(OPTS.max);
  });

  it('a send in flight for longer than SLOW_SEND_MS stops counting, so hanging endpoints cannot hold every slot, even while the loop lags', () => {
    let now = 0;
    const budget = new SendBudget({ ...OPTS, initial: 8 }, () => now);
    const log: string[] = [];
    const hung = waiter(budget, 'hung', 8, log);
    for (let i = 0; i < 8; i++) hung.resume(); // every slot held by sends that hang
    const other = waiter(budget, 'other', 2, log);
    other.resume();
    expect(log).not.toContain('other');
    now = SLOW_SEND_MS - 1;
    budget.adjust(150); // lagging: the bound shrinks, and the hung sends still count
    expect(log).not.toContain('other');
    now = SLOW_SEND_MS + 1;
    budget.adjust(150);
    expect(log.filter((n) => n === 'other')).toHaveLength(1);
    expect(budget.sendsInFlight).toBe(1);
    // A hung send answered late (its timeout) gives nothing back twice.
    for (const slot of taken.splice(0, 8)) budget.give(slot);
    expect(budget.sendsInFlight).toBe(1);
  });
});

describe('WebhookLane with a shared SendBudget (fake clock)', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  it('many lanes together never have more sends in flight than the budget, and every delivery is sent', async () => {
    const budget = new SendBudget({ ...OPTS, initial: 16, min: 16, max: 16 });
    let inFlight = 0;
    let most = 0;
    const sent = new Map<string, number>();
    const lanes = Array.from({ length: 20 }, (_, l) => {
      const lane = new WebhookLane(
        `w${l}`,
        new ConsumerWindowLimiter(100),
        async (_lane, item, answered) => {
          most = Math.max(most, ++inFlight);
          await new Promise((r) => setTimeout(r, 30));
          inFlight--;
          answered();
          sent.set(item.task.webhook_id, (sent.get(item.task.webhook_id) ?? 0) + 1);
        },
        Date.now,
        budget,
      );
      for (let i = 0; i < 25; i++) lane.queue.push(lanedItem(`w${l}`, i));
      return lane;
    });
    for (const lane of lanes) lane.pump();
    await jest.advanceTimersByTimeAsync(10_000);
    for (const lane of lanes) lane.stop();
    expect(most).toBe(16);
    expect([...sent.values()]).toEqual(Array(20).fill(25));
    expect(budget.sendsInFlight).toBe(0);
    expect(budget.waiters).toBe(0);
  });
});

function lanedItem(webhookId: string, n: number): DeliveryItem {
  return {
    task: { event_id: `e${n}`, webhook_id: webhookId, account_id: 'a', type: 't', time: '', is_test: false },
    partition: 0,
    attemptsBefore: 0,
    settle: () => undefined,
    release: () => undefined,
  };
}

describe('NodeSendBudget', () => {
  it("exports its event loop's lag: a loop held for 300 ms shows at least 150 ms at the next sample", async () => {
    const registry = new Registry();
    const budget = new NodeSendBudget(new DeliveryMetrics(registry));
    const lag = async () => (await registry.getSingleMetric('webhook_event_loop_lag_seconds')!.get()).values[0]?.value ?? 0;
    try {
      await new Promise((r) => setTimeout(r, 150)); // a first sample, on time
      const held = Date.now();
      while (Date.now() - held < 300); // nothing else runs meanwhile, the sampler included
      const deadline = Date.now() + 5000;
      while ((await lag()) < 0.15 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await lag()).toBeGreaterThanOrEqual(0.15);
    } finally {
      budget.onApplicationShutdown();
    }
  });
});
