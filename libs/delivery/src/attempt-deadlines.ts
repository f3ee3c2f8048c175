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

  /** `guard`: checked at every tick while the attempt runs; once it returns false the attempt is aborted with a StoppedError. */
  constructor(
    readonly deadline: number,
    readonly guard?: () => boolean,
  ) {}

  addEventListener(_type: 'abort', listener: () => void): void {
    this.listener = listener;
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.listener === listener) this.listener = undefined;
  }

  /**
   * The attempt has ended: the signal never fires now, and lets go of its listener at once. The
   * signal itself stays in the deadline queue until its deadline passes (up to the attempt timeout),
   * so whatever the listener reaches (a request's handler and the response bytes it kept) must not
   * stay with it.
   */
  finish(): void {
    this.done = true;
    this.listener = undefined;
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

/** Why an attempt was aborted before its deadline: its guard said it may no longer run. */
export class StoppedError extends Error {
  constructor() {
    super('stopped');
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
  /** Guarded attempts still running: the tick asks only these, not every attempt of the last timeoutMs. */
  private readonly guarded = new Set<DeadlineSignal>();

  constructor(
    private readonly timeoutMs: number,
    private readonly tickMs = 100,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A signal that aborts once the attempt has run `timeoutMs`, or at the first tick where `guard`
   * returns false; call `end(signal)` when it finishes.
   */
  start(guard?: () => boolean): DeadlineSignal {
    const signal = new DeadlineSignal(this.now() + this.timeoutMs, guard);
    this.queue.push(signal);
    if (guard) this.guarded.add(signal);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.tickMs);
      this.timer.unref();
    }
    return signal;
  }

  end(signal: DeadlineSignal): void {
    signal.finish();
    this.guarded.delete(signal);
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
      this.guarded.delete(signal);
      signal.abort(timeout);
    }
    let stopped: StoppedError | undefined;
    for (const signal of this.guarded) {
      if (signal.aborted || signal.guard!()) continue;
      this.guarded.delete(signal);
      signal.abort((stopped ??= new StoppedError()));
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
