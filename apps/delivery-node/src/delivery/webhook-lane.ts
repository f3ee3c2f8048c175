import { ConsumerWindowLimiter, type SendSlot } from '@app/delivery';
import type { DeliveryItem } from './delivery-item';
import type { BudgetSlot, BudgetWaiter, SendBudget } from './send-budget';

/** For a lane built alone (unit tests): every send may start. */
const UNCOUNTED: BudgetSlot = { startedAt: 0, counted: false };
const UNBOUNDED: Pick<SendBudget, 'take' | 'give' | 'forget'> = { take: () => UNCOUNTED, give: () => undefined, forget: () => undefined };

/**
 * The queue of one webhook, with a bounded number of sends in flight. Sends are paced evenly,
 * 1/rate seconds apart against a schedule (a timer that fires late lets the next send catch up, so
 * lateness does not add up), and each one is checked against the consumer-side window
 * (ConsumerWindowLimiter): the `rate`-th previous send must have been answered more than a second
 * ago. So a webhook with a backlog gets about its whole `rate_limit` (less its consumer's answer
 * time), and no one-second window at the consumer ever sees more, whatever the network does.
 */
export class WebhookLane implements BudgetWaiter {
  readonly queue: DeliveryItem[] = [];
  /** `<partition>:<account>` of this webhook (a webhook has one of each), once it has had work. */
  accountKey?: string;
  /** The webhook's partition, once it has had work. */
  partition?: number;
  /** When the lane was last seen idle (see DeliveryDispatcher's dropWhenIdle). */
  idleSince = 0;
  inFlight = 0;
  /** Called when the lane has nothing queued or in flight any more (after a send's outcome is recorded). */
  onIdle?: (lane: WebhookLane) => void;
  private timer?: NodeJS.Timeout;
  /** Earliest start of the next send by the even pacing. */
  private nextAt = -Infinity;

  constructor(
    readonly webhookId: string,
    readonly limiter: ConsumerWindowLimiter,
    /** Makes the attempt; calls `answered` as soon as the consumer's answer (or the failure) is in. */
    private readonly run: (lane: WebhookLane, item: DeliveryItem, answered: () => void) => Promise<void>,
    private readonly now: () => number = Date.now,
    /** The node's sends in flight across all lanes (see SendBudget): a send starts only with a slot of it. */
    private readonly budget: Pick<SendBudget, 'take' | 'give' | 'forget'> = UNBOUNDED,
  ) {}

  resume(): void {
    this.pump();
  }

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

  /** Starts as many sends as pacing, the window and the in-flight bound allow now; wakes itself later. */
  pump(): void {
    if (this.timer) return;
    while (this.queue.length && this.inFlight < this.maxInFlight) {
      const now = this.now();
      const spacing = this.nextAt - now;
      const wait = spacing > 0 ? spacing : this.limiter.wait(now);
      if (wait === Infinity) return; // woken when that send is answered
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, Math.ceil(wait));
        return;
      }
      const counted = this.budget.take(this);
      if (!counted) return; // resumed when a slot frees
      const interval = 1000 / this.limiter.rate;
      // Late by less than one interval: keep the schedule (catch up); later than that: start afresh.
      this.nextAt = (this.nextAt > now - interval ? this.nextAt : now) + interval;
      const slot = this.limiter.start();
      const item = this.queue.shift()!;
      this.inFlight++;
      const ended = () => {
        this.answered(slot, counted);
        this.inFlight--;
        this.pump();
        if (this.idle) this.onIdle?.(this);
      };
      // then(ended, ended), not finally(): finally chains two more promises per send.
      void this.run(this, item, () => this.answered(slot, counted)).then(ended, ended);
    }
  }

  private answered(slot: SendSlot, counted: BudgetSlot): void {
    if (slot.answeredAt !== Infinity) return;
    this.limiter.answered(slot, this.now());
    this.budget.give(counted);
    this.pump();
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
    this.budget.forget(this);
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
