import { ConsumerWindowLimiter } from './consumer-window-limiter';

/** Small seeded PRNG so a failing case can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Most arrivals in any half-open window [x, x + 1000). */
function fullestWindow(arrivals: number[]): number {
  const t = [...arrivals].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (j < t.length && t[j] - t[i] < 1000) j++;
    best = Math.max(best, j - i);
  }
  return best;
}

/**
 * A sender that starts a send whenever the limiter allows (up to `maxInFlight`), with answer times
 * drawn at random; the consumer gets each request at a random moment between its start and its answer.
 */
function simulate(seed: number, rate: number, sends: number, latency: (r: () => number) => number, maxInFlight = rate) {
  const rand = mulberry32(seed);
  const limiter = new ConsumerWindowLimiter(rate);
  const arrivals: number[] = [];
  const inFlight: { slot: ReturnType<ConsumerWindowLimiter['start']>; answerAt: number }[] = [];
  let now = 0;
  let started = 0;
  while (started < sends) {
    inFlight.sort((a, b) => a.answerAt - b.answerAt);
    while (inFlight.length && inFlight[0].answerAt <= now) limiter.answered(inFlight.shift()!.slot, inFlight.length ? now : now);
    const wait = inFlight.length >= maxInFlight ? Infinity : limiter.wait(now);
    if (wait === 0) {
      const l = latency(rand);
      arrivals.push(now + rand() * l);
      inFlight.push({ slot: limiter.start(), answerAt: now + l });
      started++;
      now += Math.floor(rand() * 3); // a little time between sends
      continue;
    }
    const next = Math.min(wait === Infinity ? Infinity : now + wait, ...inFlight.map((f) => f.answerAt));
    now = Math.max(now + 1, Math.ceil(next));
  }
  return { arrivals, seconds: now / 1000 };
}

describe('ConsumerWindowLimiter', () => {
  it('no one-second window at the consumer ever holds more than rate, whatever each request takes', () => {
    for (let seed = 1; seed <= 30; seed++) {
      for (const rate of [1, 5, 100]) {
        // Mostly fast answers, some very slow ones (a cold connection, a paused process).
        const { arrivals } = simulate(seed, rate, rate * 6, (r) => (r() < 0.9 ? r() * 5 : r() * 900));
        expect(fullestWindow(arrivals)).toBeLessThanOrEqual(rate);
      }
    }
  });

  it('a fast consumer gets at least 0.97 of the rate', () => {
    const { arrivals } = simulate(7, 100, 3000, (r) => 1 + r() * 4);
    const steady = arrivals.filter((t) => t >= 1000 && t < 29_000).length / 28;
    expect(steady).toBeGreaterThanOrEqual(97);
    expect(fullestWindow(arrivals)).toBeLessThanOrEqual(100);
  });

  it('waits for the answer of the rate-th previous send, then a whole window more', () => {
    const limiter = new ConsumerWindowLimiter(2);
    const a = limiter.start();
    const b = limiter.start();
    expect(limiter.wait(0)).toBe(Infinity); // a has not been answered
    limiter.answered(a, 100);
    expect(limiter.wait(600)).toBe(501);
    expect(limiter.wait(1100)).toBe(1);
    expect(limiter.wait(1101)).toBe(0);
    limiter.start();
    expect(limiter.wait(1101)).toBe(Infinity); // now b decides
    limiter.answered(b, 50);
    limiter.answered(b, 5000); // once only
    expect(limiter.wait(1051)).toBe(0);
    expect(limiter.unanswered).toBe(1);
  });

  it('a rate that shrinks and grows again still counts the sends that happened meanwhile', () => {
    const limiter = new ConsumerWindowLimiter(3);
    for (let i = 0; i < 3; i++) limiter.answered(limiter.start(), 0);
    limiter.setRate(1);
    expect(limiter.wait(500)).toBe(501);
    limiter.setRate(3);
    expect(limiter.wait(500)).toBe(501);
    expect(limiter.wait(1001)).toBe(0);
    expect(() => limiter.setRate(0)).toThrow(RangeError);
  });
});
