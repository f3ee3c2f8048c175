import { SlidingWindowLimiter } from '@app/delivery';
import type { DeliveryItem } from './delivery-item';

/**
 * The queue of one webhook, with a bounded number of sends in flight. Sends are spaced at least
 * 1/rate seconds apart and also checked against the sliding log: evenly spaced sends keep the
 * consumer under its limit even when network jitter bunches what it receives, which a burst of
 * `rate` sends at the start of each second would not.
 */
/**
 * Sends are paced over a window 100 ms longer than a second: a request delayed by up to that much
 * more than its neighbours (a new TLS connection, a busy network) still lands within the limit.
 */
export const PACING_WINDOW_MS = 1100;

export class WebhookLane {
  readonly queue: DeliveryItem[] = [];
  /** `<partition>:<account>` of this webhook (a webhook has one of each), once it has had work. */
  accountKey?: string;
  inFlight = 0;
  private timer?: NodeJS.Timeout;
  private lastSendAt = -Infinity;

  constructor(
    readonly webhookId: string,
    readonly limiter: SlidingWindowLimiter,
    private readonly run: (lane: WebhookLane, item: DeliveryItem) => Promise<void>,
  ) {}

  /**
   * Deliveries held in memory at most, queued and in flight: a few seconds of sends, and far below a
   * partition's in-flight budget (PARTITION_IN_FLIGHT), so a webhook with a backlog or a slow
   * endpoint leaves the partition to everybody else; the rest waits in the due-time queue.
   */
  get capacity(): number {
    return Math.min(250, Math.max(20, this.limiter.rate * 5));
  }

  get maxInFlight(): number {
    return Math.min(this.limiter.rate, 50);
  }

  get idle(): boolean {
    return this.queue.length === 0 && this.inFlight === 0;
  }

  /** Starts as many sends as the limiter and the in-flight bound allow now; wakes itself later. */
  pump(): void {
    if (this.timer) return;
    while (this.queue.length && this.inFlight < this.maxInFlight) {
      const now = Date.now();
      const spacing = this.lastSendAt + PACING_WINDOW_MS / this.limiter.rate - now;
      const wait = spacing > 0 ? spacing : this.limiter.tryAcquire(now);
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      this.lastSendAt = now;
      const item = this.queue.shift()!;
      this.inFlight++;
      void this.run(this, item).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** Hands back everything not yet started (e.g. when the partition moves to another node). */
  drainQueued(predicate: (item: DeliveryItem) => boolean): DeliveryItem[] {
    const out: DeliveryItem[] = [];
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (predicate(this.queue[i])) out.push(...this.queue.splice(i, 1));
    }
    return out;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
