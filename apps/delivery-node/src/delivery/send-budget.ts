import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { DeliveryMetrics } from '../delivery-metrics';

/** A lane waiting for a send slot; `resume` is called once one may start. */
export interface BudgetWaiter {
  resume(): void;
}

/** One send counted by the budget, from take() until give() or until it is older than SLOW_SEND_MS. */
export interface BudgetSlot {
  startedAt: number;
  counted: boolean;
}

/**
 * A send in flight longer than this stops counting: it waits on its endpoint, not on this node's
 * event loop (whose lag would have shrunk the budget), and costs no CPU while it waits. So sends
 * that hang on one tenant's endpoint (for up to the 10 s send timeout) hold the budget for a second
 * at most; the lane's own in-flight bound keeps it from starting more meanwhile.
 */
export const SLOW_SEND_MS = 1000;

export interface SendBudgetOptions {
  /** Sends in flight allowed at first. */
  initial: number;
  min: number;
  max: number;
  /** Event-loop lag (ms) at or above which the node counts as overloaded: the budget shrinks. */
  overloadedLagMs: number;
  /** Lag below which the node has room: the budget grows, if it held sends back since the last look. */
  idleLagMs: number;
}

export const SEND_BUDGET_DEFAULTS: Readonly<SendBudgetOptions> = { initial: 512, min: 128, max: 8192, overloadedLagMs: 200, idleLagMs: 50 };

/**
 * How many sends this node has in flight (started within the last SLOW_SEND_MS, not yet answered)
 * at most, across every lane. Without a bound, a burst of work taken in at once had every lane start
 * sends faster than the node's one event loop could read their answers: sends waited on the node
 * itself, so more were in flight, each opening a TLS connection of its own, which cost more CPU
 * still. Throughput halved, the node's lease renewals ran late, its fence tripped and cut sends in
 * flight (which are then sent again). A bound learnt from the event loop's lag stops that: it shrinks
 * while the loop lags and grows while sends are held back and the loop keeps up. A send slower than
 * SLOW_SEND_MS stops counting, so one tenant's hanging endpoints cannot keep the others' sends from
 * starting.
 *
 * Fair: a lane refused waits in line, and each lane woken starts one send per turn.
 */
export class SendBudget {
  private inFlight = 0;
  private current: number;
  /** Insertion order is the line. */
  private readonly waiting = new Set<BudgetWaiter>();
  /** The waiter being woken: its next take() gets the slot it was woken for. */
  private waking?: BudgetWaiter;
  /** A take() was refused since the last adjust(). */
  private heldBack = false;
  /** Counted slots in the order they were taken (and some given back since), from `head`. */
  private slots: BudgetSlot[] = [];
  private head = 0;

  constructor(
    private readonly opts: Readonly<SendBudgetOptions> = SEND_BUDGET_DEFAULTS,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.current = opts.initial;
  }

  get limit(): number {
    return this.current;
  }

  get sendsInFlight(): number {
    return this.inFlight;
  }

  get waiters(): number {
    return this.waiting.size;
  }

  /** May a send start now? Counts it if so (give the slot back when it is answered); otherwise `w` is resumed once one may. */
  take(w: BudgetWaiter): BudgetSlot | undefined {
    if (this.waking === w) {
      this.waking = undefined;
      return this.count();
    }
    if (this.inFlight < this.current && this.waiting.size === 0) return this.count();
    this.heldBack = true;
    this.waiting.add(w);
    return undefined;
  }

  /** The send was answered (or ended without an answer). Once per slot; a slot that stopped counting is only marked. */
  give(slot: BudgetSlot): void {
    if (!slot.counted) return;
    slot.counted = false;
    this.inFlight--;
    this.wake();
  }

  private count(): BudgetSlot {
    const slot = { startedAt: this.now(), counted: true };
    this.inFlight++;
    this.slots.push(slot);
    return slot;
  }

  /** Stops counting the sends in flight for longer than SLOW_SEND_MS (and drops given-back slots from the front). */
  private expire(now: number): void {
    const cutoff = now - SLOW_SEND_MS;
    while (this.head < this.slots.length) {
      const slot = this.slots[this.head];
      if (slot.counted && slot.startedAt > cutoff) break;
      if (slot.counted) {
        slot.counted = false;
        this.inFlight--;
      }
      this.head++;
    }
    if (this.head >= 1024 || (this.head > 0 && this.head * 2 >= this.slots.length)) {
      this.slots = this.slots.slice(this.head);
      this.head = 0;
    }
  }

  /** A waiter that will not send any more (its webhook went): out of the line. */
  forget(w: BudgetWaiter): void {
    this.waiting.delete(w);
  }

  /** The event loop's lag over the last period: shrinks or grows the bound; slow sends stop counting. */
  adjust(lagMs: number): void {
    this.expire(this.now());
    const { min, max, overloadedLagMs, idleLagMs } = this.opts;
    if (lagMs >= overloadedLagMs) this.current = Math.max(min, Math.floor(this.current * 0.8));
    else if (lagMs < idleLagMs && this.heldBack) this.current = Math.min(max, this.current + Math.max(8, Math.floor(this.current / 8)));
    this.heldBack = false;
    this.wake();
  }

  private wake(): void {
    while (this.inFlight < this.current && this.waiting.size) {
      const next = this.waiting.values().next().value as BudgetWaiter;
      this.waiting.delete(next);
      this.waking = next;
      try {
        next.resume();
      } finally {
        this.waking = undefined; // woken but not sending now (paced, or nothing left): the slot stays free
      }
    }
  }
}

/** How often the event loop's lag is looked at. */
const SAMPLE_MS = 100;

/** This node's send budget, adjusted from its event loop's lag every SAMPLE_MS. */
@Injectable()
export class NodeSendBudget extends SendBudget implements OnApplicationShutdown {
  private readonly timer: NodeJS.Timeout;

  constructor(metrics: DeliveryMetrics) {
    super();
    let last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      const lag = Math.max(0, now - last - SAMPLE_MS);
      this.adjust(lag);
      last = now;
      metrics.eventLoopLag.set(lag / 1000);
      metrics.sendBudget.set(this.limit);
      metrics.sendsInFlight.set(this.sendsInFlight);
    }, SAMPLE_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
