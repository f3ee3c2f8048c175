/**
 * Lets at most `limit` calls of `run` proceed at once; the rest wait their turn in order. Used for
 * bursts of JetStream API requests (a node taking a thousand partitions at start-up), which would
 * otherwise queue in the server behind each other and time out everything else, lease renewals
 * first.
 */
export class ConcurrencyGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`a concurrency limit is a positive integer, got ${limit}`);
  }

  /** Calls now waiting for a turn. */
  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next waiter, so running never exceeds the limit.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
