/**
 * An abort signal as undici accepts one (anything with addEventListener/removeEventListener), without
 * the EventTarget machinery of a real AbortSignal: one listener at most, which is all undici adds.
 */
export class DeadlineSignal {
  aborted = false;
  reason: Error | undefined;
  /** Set once the attempt has ended: the wheel skips it. */
  done = false;
  private listener?: () => void;

  constructor(readonly deadline: number) {}

  addEventListener(_type: 'abort', listener: () => void): void {
    this.listener = listener;
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.listener === listener) this.listener = undefined;
  }

  abort(reason: Error): void {
    if (this.aborted || this.done) return;
    this.aborted = true;
    this.reason = reason;
    const listener = this.listener;
    this.listener = undefined;
    listener?.();
  }
}

/**
 * One coarse timer for the whole-attempt bound of every request in flight, instead of a timer and an
 * AbortController per request. All attempts get the same bound, so deadlines arrive in the order the
 * attempts started: a FIFO, checked every `tickMs`. An attempt is aborted between `timeoutMs` and
 * `timeoutMs + tickMs` after it started.
 */
export class AttemptDeadlines {
  private queue: DeadlineSignal[] = [];
  private head = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly timeoutMs: number,
    private readonly tickMs = 100,
    private readonly now: () => number = Date.now,
  ) {}

  /** A signal that aborts once the attempt has run `timeoutMs`; call `end(signal)` when it finishes. */
  start(): DeadlineSignal {
    const signal = new DeadlineSignal(this.now() + this.timeoutMs);
    this.queue.push(signal);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.tickMs);
      this.timer.unref();
    }
    return signal;
  }

  end(signal: DeadlineSignal): void {
    signal.done = true;
  }

  /** Attempts still tracked (ended ones leave at their deadline). */
  get size(): number {
    return this.queue.length - this.head;
  }

  tick(): void {
    const now = this.now();
    const timeout = new Error('timeout');
    while (this.head < this.queue.length && this.queue[this.head].deadline <= now) {
      const signal = this.queue[this.head];
      this.queue[this.head++] = undefined as never;
      signal.abort(timeout);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
