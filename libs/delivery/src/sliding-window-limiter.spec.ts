import { SlidingWindowLimiter } from './sliding-window-limiter';

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

/** Largest number of sends in any window [x, x+w) (or [x, x+w] when closed); times sorted. */
function maxInAnyWindow(times: number[], w: number, closed = false): number {
  let best = 0;
  let j = 0;
  for (let i = 0; i < times.length; i++) {
    while (j < times.length && (closed ? times[j] <= times[i] + w : times[j] < times[i] + w)) j++;
    best = Math.max(best, j - i);
  }
  return best;
}

/** Random arrivals: bursts in the same ms, short gaps, long pauses; every caller retries after the wait it is told. */
function simulate(rand: () => number, rate: number, steps: number, fractional: boolean, windowMs = 1000) {
  const limiter = new SlidingWindowLimiter(rate, windowMs);
  const sends: number[] = [];
  let t = 0;
  let backlog = 0;
  let retryAt = -1;
  for (let s = 0; s < steps; s++) {
    const r = rand();
    const gap = r < 0.3 ? 0 : r < 0.9 ? rand() * 20 : rand() * 3000;
    t += fractional ? gap : Math.floor(gap);
    if (retryAt >= 0 && retryAt < t) t = retryAt; // wake up when the limiter said a slot frees
    backlog += Math.floor(rand() * 4);
    retryAt = -1;
    while (backlog > 0) {
      const wait = limiter.tryAcquire(t);
      if (wait > 0) {
        retryAt = t + wait;
        break;
      }
      sends.push(t);
      backlog--;
    }
  }
  return sends;
}

describe('SlidingWindowLimiter', () => {
  it.each([1, 2, 3, 7, 10, 50, 200])('never lets more than rate=%i sends into any window (random arrivals)', (rate) => {
    for (const fractional of [false, true]) {
      for (let seed = 1; seed <= 20; seed++) {
        const sends = simulate(mulberry32(seed * 7919 + rate), rate, 3000, fractional);
        expect(sends.length).toBeGreaterThan(rate);
        expect(maxInAnyWindow(sends, 1000)).toBeLessThanOrEqual(rate);
        expect(maxInAnyWindow(sends, 1000, true)).toBeLessThanOrEqual(rate);
      }
    }
  });

  it('is saturated under constant pressure: about rate sends per window, not fewer', () => {
    const rate = 25;
    const limiter = new SlidingWindowLimiter(rate);
    const sends: number[] = [];
    for (let t = 0; t < 60_000; t++) while (limiter.tryAcquire(t) === 0) sends.push(t);
    expect(maxInAnyWindow(sends, 1000, true)).toBe(rate);
    // Strict "> 1000 ms apart" costs 1 ms per window at most.
    expect(sends.length).toBeGreaterThanOrEqual(rate * Math.floor(60_000 / 1001));
  });

  it('reports the exact wait until a slot frees', () => {
    const limiter = new SlidingWindowLimiter(3);
    expect([limiter.tryAcquire(0), limiter.tryAcquire(0), limiter.tryAcquire(10)]).toEqual([0, 0, 0]);
    expect(limiter.tryAcquire(500)).toBe(501);
    expect(limiter.tryAcquire(1000)).toBe(1);
    expect(limiter.tryAcquire(1001)).toBe(0);
    expect(limiter.tryAcquire(1001)).toBe(0);
    expect(limiter.tryAcquire(1001)).toBe(10);
    expect(limiter.tryAcquire(1011)).toBe(0);
  });

  it('shrinks immediately, keeping the newest sends', () => {
    const limiter = new SlidingWindowLimiter(5);
    for (let t = 0; t < 5; t++) expect(limiter.tryAcquire(t)).toBe(0);
    limiter.setRate(2);
    expect(limiter.rate).toBe(2);
    expect(limiter.tryAcquire(1003)).toBe(1); // newest two were at 3 and 4
    expect(limiter.tryAcquire(1004)).toBe(0);
    expect(limiter.tryAcquire(1004)).toBe(1);
  });

  it('does not forget sends on a shrink that a later grow would need', () => {
    const limiter = new SlidingWindowLimiter(10);
    for (let i = 0; i < 10; i++) expect(limiter.tryAcquire(i)).toBe(0);
    limiter.setRate(2);
    limiter.setRate(10);
    expect(limiter.tryAcquire(100)).toBe(901);
    limiter.setRate(3);
    expect(limiter.tryAcquire(1006)).toBe(2); // 3rd most recent was at 7
    expect(limiter.tryAcquire(1008)).toBe(0); // ring compacts to the sends at 8, 9, 1008
    limiter.setRate(10);
    for (let i = 0; i < 7; i++) expect(limiter.tryAcquire(1008)).toBe(0);
    expect(limiter.tryAcquire(1008)).toBe(1); // [8, 1008] holds 10
  });

  it('grows immediately', () => {
    const limiter = new SlidingWindowLimiter(2);
    expect([limiter.tryAcquire(0), limiter.tryAcquire(1)]).toEqual([0, 0]);
    expect(limiter.tryAcquire(2)).toBeGreaterThan(0);
    limiter.setRate(4);
    expect([limiter.tryAcquire(2), limiter.tryAcquire(3)]).toEqual([0, 0]);
    expect(limiter.tryAcquire(4)).toBe(997);
  });

  it('keeps the invariant for the current rate across random setRate calls', () => {
    const rand = mulberry32(42);
    const limiter = new SlidingWindowLimiter(10);
    const sends: { t: number; rate: number }[] = [];
    let t = 0;
    for (let step = 0; step < 20_000; step++) {
      t += rand() < 0.5 ? 0 : Math.floor(rand() * 30);
      if (rand() < 0.002) limiter.setRate(1 + Math.floor(rand() * 20));
      if (limiter.tryAcquire(t) === 0) sends.push({ t, rate: limiter.rate });
    }
    // Every send sees at most `rate` sends (itself included) in the closed second that ends with it.
    for (let i = 0, j = 0; i < sends.length; i++) {
      while (sends[j].t < sends[i].t - 1000) j++;
      expect(i - j + 1).toBeLessThanOrEqual(sends[i].rate);
    }
  });

  it('supports other window lengths', () => {
    const sends = simulate(mulberry32(9), 4, 3000, false, 250);
    expect(maxInAnyWindow(sends, 250, true)).toBeLessThanOrEqual(4);
  });

  it('rejects nonsense rates', () => {
    expect(() => new SlidingWindowLimiter(0)).toThrow(RangeError);
    expect(() => new SlidingWindowLimiter(1.5)).toThrow(RangeError);
    expect(() => new SlidingWindowLimiter(5).setRate(-1)).toThrow(RangeError);
  });
});
