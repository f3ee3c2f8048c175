import { MAX_RETRY_DELAY_MS, RETRY_WINDOW_MS, nextAttemptAt, parseRetryAfter, retryDelayMs } from './backoff';

const fixed = (r: number) => () => r;

describe('retryDelayMs', () => {
  it('puts the first retry about 5 s out, jittered within [2.5 s, 7.5 s]', () => {
    expect(retryDelayMs(1, fixed(0))).toBe(2_500);
    expect(retryDelayMs(1, fixed(0.5))).toBe(5_000);
    expect(retryDelayMs(1, fixed(0.999999))).toBeLessThanOrEqual(7_500);
    const seen = Array.from({ length: 1000 }, () => retryDelayMs(1));
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(2_500);
    expect(Math.max(...seen)).toBeLessThanOrEqual(7_500);
    expect(new Set(seen).size).toBeGreaterThan(100); // actually jittered
  });

  it('grows exponentially', () => {
    const mid = [1, 2, 3, 4, 5].map((a) => retryDelayMs(a, fixed(0.5)));
    expect(mid).toEqual([5_000, 10_000, 20_000, 40_000, 80_000]);
    // Even worst-case jitter keeps later retries no earlier than the first.
    expect(retryDelayMs(3, fixed(0))).toBeGreaterThan(retryDelayMs(1, fixed(0.999)));
  });

  it('is capped', () => {
    for (const attempt of [12, 20, 100, 10_000, Number.MAX_SAFE_INTEGER]) {
      for (const r of [0, 0.5, 0.999]) {
        const d = retryDelayMs(attempt, fixed(r));
        expect(Number.isFinite(d)).toBe(true);
        expect(d).toBeLessThanOrEqual(MAX_RETRY_DELAY_MS);
        expect(d).toBeGreaterThanOrEqual(MAX_RETRY_DELAY_MS / 2);
      }
    }
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2024, 0, 1, 12, 0, 0);

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads the HTTP-date forms', () => {
    expect(parseRetryAfter('Mon, 01 Jan 2024 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Monday, 01-Jan-24 12:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Mon Jan  1 12:00:05 2024', now)).toBe(5_000);
    expect(parseRetryAfter('Mon, 01 Jan 2024 11:00:00 GMT', now)).toBe(0); // in the past
  });

  it('caps long waits', () => {
    expect(parseRetryAfter('999999999999', now)).toBe(MAX_RETRY_DELAY_MS);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:00 GMT', now)).toBe(MAX_RETRY_DELAY_MS);
  });

  it('ignores absent or invalid values', () => {
    for (const v of [undefined, '', '  ', '-5', '1.5', '5s', 'soon', 'Mon, 99 Foo 2024 12:00:00 GMT', '2024-01-01T12:00:00Z', 'Jan 2024']) {
      expect(parseRetryAfter(v, now)).toBeUndefined();
    }
  });
});

describe('nextAttemptAt', () => {
  const first = 1_700_000_000_000;

  it('schedules from the failure time', () => {
    expect(nextAttemptAt(first, 1, first + 300, undefined, fixed(0.5))).toBe(first + 300 + 5_000);
  });

  it('lets Retry-After lengthen the wait but not shorten it', () => {
    expect(nextAttemptAt(first, 1, first, 60_000, fixed(0.5))).toBe(first + 60_000);
    expect(nextAttemptAt(first, 1, first, 0, fixed(0.5))).toBe(first + 5_000);
    expect(nextAttemptAt(first, 1, first, 10 * MAX_RETRY_DELAY_MS, fixed(0.5))).toBe(first + MAX_RETRY_DELAY_MS);
  });

  it('gives up 24 h after the first attempt', () => {
    const late = first + RETRY_WINDOW_MS - 1_000;
    expect(nextAttemptAt(first, 30, late, undefined, fixed(0.5))).toBeNull();
    expect(nextAttemptAt(first, 1, late, undefined, fixed(0))).toBeNull(); // 2.5 s > 1 s left
    expect(nextAttemptAt(first, 1, first + RETRY_WINDOW_MS - 10_000, undefined, fixed(0.5))).toBe(first + RETRY_WINDOW_MS - 5_000);
  });

  it('gives a bounded number of retries over the whole window', () => {
    let now = first;
    let attempts = 0;
    for (let a = 1; ; a++) {
      const at = nextAttemptAt(first, a, now);
      if (at === null) break;
      expect(at).toBeGreaterThan(now);
      now = at;
      attempts++;
    }
    expect(now).toBeLessThanOrEqual(first + RETRY_WINDOW_MS);
    expect(attempts).toBeGreaterThan(15);
    expect(attempts).toBeLessThan(60);
  });
});
