import { ConsumerWindowLimiter } from '@app/delivery';
import type { DeliveryItem } from './delivery-item';
import { WebhookLane } from './webhook-lane';

const item = (n: number): DeliveryItem => ({
  task: { event_id: `e${n}`, webhook_id: 'w', account_id: 'a', type: 't', time: '', is_test: false },
  partition: 0,
  attemptsBefore: 0,
  settle: () => undefined,
  release: () => undefined,
});

/** Most of `times` in any half-open window [x, x + 1000). */
function fullestWindow(times: number[]): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (j < times.length && times[j] - times[i] < 1000) j++;
    best = Math.max(best, j - i);
  }
  return best;
}

describe('WebhookLane pacing (fake clock)', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  /** A lane with `backlog` queued; every send is answered after `answerMs(i)` and recorded 20 ms later. */
  async function run(rate: number, backlog: number, seconds: number, answerMs: (i: number) => number) {
    const starts: number[] = [];
    const lane = new WebhookLane('w', new ConsumerWindowLimiter(rate), async (_lane, _item, answered) => {
      const i = starts.push(Date.now()) - 1;
      await new Promise((r) => setTimeout(r, answerMs(i)));
      answered();
      await new Promise((r) => setTimeout(r, 20));
    });
    for (let i = 0; i < backlog; i++) lane.queue.push(item(i));
    lane.pump();
    await jest.advanceTimersByTimeAsync(seconds * 1000);
    lane.stop();
    return { starts, lane };
  }

  it.each([5, 100])('rate_limit %i with a backlog: at least 0.97 R per second, never more than R in a second', async (rate) => {
    const { starts } = await run(rate, rate * 30, 22, () => 3);
    const steady = starts.filter((t) => t >= 1000 && t < 21_000).length / 20;
    expect(steady).toBeGreaterThanOrEqual(0.97 * rate);
    expect(fullestWindow(starts)).toBeLessThanOrEqual(rate);
  });

  it('spaces sends evenly instead of a burst of R at the start of each second', async () => {
    const { starts } = await run(10, 100, 3, () => 2);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(99);
  });

  it('a send whose answer is late holds the send R places after it until a second after the answer', async () => {
    // Send 0 takes 700 ms to be answered: send 5 (rate 5) may start only after 1700 ms.
    const { starts } = await run(5, 10, 4, (i) => (i === 0 ? 700 : 2));
    expect(starts[5]).toBeGreaterThan(1700);
    expect(starts.slice(1, 5).every((t) => t < 1000)).toBe(true);
  });

  it('never has more than min(rate, 50) in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const lane = new WebhookLane('w', new ConsumerWindowLimiter(200), async (_l, _i, answered) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 5000));
      answered();
      inFlight--;
    });
    for (let i = 0; i < 300; i++) lane.queue.push(item(i));
    lane.pump();
    await jest.advanceTimersByTimeAsync(12_000);
    lane.stop();
    expect(most).toBe(50);
  });
});
