/**
 * Per-webhook sliding-log limiter: remembers recent send times in a ring buffer and allows a send
 * only when the `rate`-th most recent one is more than `windowMs` old. So no window of length
 * `windowMs`, half-open [x, x+W) or even closed [x, x+W], ever holds more than `rate` sends. (A token
 * bucket with burst = rate lets 2x rate through a sliding window, which breaks the contract.)
 */
export class SlidingWindowLimiter {
  // Capacity may exceed `rate` after a shrink: sends older than the new rate's slots can still sit in
  // the current window and must not be forgotten if the rate grows again before they age out.
  private ring: Float64Array;
  private head = 0; // index of the oldest recorded send
  private count = 0;
  private currentRate: number;

  constructor(
    rate: number,
    private readonly windowMs = 1000,
  ) {
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${windowMs}`);
    this.currentRate = checkRate(rate);
    this.ring = new Float64Array(rate);
  }

  get rate(): number {
    return this.currentRate;
  }

  /** Takes effect immediately, shrinking or growing. */
  setRate(rate: number): void {
    this.currentRate = checkRate(rate);
    if (rate > this.ring.length) this.compact(rate, this.count);
  }

  /** 0 and records a send when allowed; otherwise the ms to wait before trying again (> 0). */
  tryAcquire(now: number = Date.now()): number {
    const cap = this.ring.length;
    const rate = this.currentRate;
    if (this.count < rate) {
      this.ring[(this.head + this.count) % cap] = now;
      this.count++;
      return 0;
    }
    const nth = this.ring[(this.head + this.count - rate) % cap];
    // Strictly more than windowMs apart; a clock that steps back only makes us wait longer.
    if (now - nth <= this.windowMs) return Math.floor(nth + this.windowMs - now) + 1;
    // Everything up to and including `nth` has aged out for good: keep only the newest rate - 1.
    if (cap === rate) {
      this.ring[this.head] = now;
      this.head = (this.head + 1) % cap;
    } else {
      this.compact(rate, rate - 1);
      this.ring[this.count++] = now;
    }
    return 0;
  }

  /** Reallocates with the given capacity, keeping the newest `keep` sends in order. */
  private compact(capacity: number, keep: number): void {
    const next = new Float64Array(capacity);
    const cap = this.ring.length;
    for (let i = 0; i < keep; i++) next[i] = this.ring[(this.head + this.count - keep + i) % cap];
    this.ring = next;
    this.head = 0;
    this.count = keep;
  }
}

function checkRate(rate: number): number {
  if (!Number.isInteger(rate) || rate < 1) throw new RangeError(`rate must be a positive integer, got ${rate}`);
  return rate;
}
