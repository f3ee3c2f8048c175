/** One send in the log: when its answer came (Infinity while it is in flight). */
export interface SendSlot {
  answeredAt: number;
}

/**
 * Per-webhook rate limit measured where the contract measures it: at the consumer. A consumer gets
 * request i at some time a_i between its start s_i and its answer r_i. A send may start only when
 * the answer to the `rate`-th most recent send came more than `windowMs` ago: then
 * a_(i+rate) >= s_(i+rate) > r_i + windowMs >= a_i + windowMs, so no window of `windowMs` at the
 * consumer ever holds more than `rate` requests, whatever the network or either side's event loop
 * does to any single request. A fast consumer (answers in L ms) gets rate x 1000 / (1000 + L).
 */
export class ConsumerWindowLimiter {
  /** Sends in start order, oldest first from `head`; at least the newest `capacity` are kept. */
  private log: SendSlot[] = [];
  private head = 0;
  private currentRate: number;
  /** Largest rate seen: after a shrink, older sends still count if the rate grows again. */
  private capacity: number;

  constructor(
    rate: number,
    private readonly windowMs = 1000,
  ) {
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${windowMs}`);
    this.currentRate = checkRate(rate);
    this.capacity = rate;
  }

  get rate(): number {
    return this.currentRate;
  }

  /** Takes effect immediately, shrinking or growing. */
  setRate(rate: number): void {
    this.currentRate = checkRate(rate);
    this.capacity = Math.max(this.capacity, rate);
  }

  /** ms to wait before a send may start (0: now); Infinity while the send it depends on has no answer yet. */
  wait(now: number = Date.now()): number {
    const n = this.log.length - this.head;
    if (n < this.currentRate) return 0;
    const answeredAt = this.log[this.log.length - this.currentRate].answeredAt;
    if (answeredAt === Infinity) return Infinity;
    // Strictly more than windowMs after the answer; a clock that steps back only makes us wait longer.
    return now - answeredAt > this.windowMs ? 0 : Math.floor(answeredAt + this.windowMs - now) + 1;
  }

  /** Records a send starting now (call only when wait() is 0); `answered` it when its answer comes. */
  start(): SendSlot {
    const slot: SendSlot = { answeredAt: Infinity };
    this.log.push(slot);
    if (this.log.length - this.head > this.capacity) this.head++;
    if (this.head >= 1024 || (this.head > 0 && this.head * 2 >= this.log.length)) {
      this.log = this.log.slice(this.head);
      this.head = 0;
    }
    return slot;
  }

  /** The send's answer came (or it ended without one: then now is still a safe bound). Once per slot. */
  answered(slot: SendSlot, now: number = Date.now()): void {
    if (slot.answeredAt === Infinity) slot.answeredAt = now;
  }

  /** Sends whose answer has not come yet. */
  get unanswered(): number {
    let n = 0;
    for (let i = this.head; i < this.log.length; i++) if (this.log[i].answeredAt === Infinity) n++;
    return n;
  }
}

function checkRate(rate: number): number {
  if (!Number.isInteger(rate) || rate < 1) throw new RangeError(`rate must be a positive integer, got ${rate}`);
  return rate;
}
