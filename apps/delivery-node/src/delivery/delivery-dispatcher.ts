import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { ConsumerWindowLimiter } from '@app/delivery';
import { decideAfterAttempt } from './attempt-decision';
import { WebhooksRepository } from '@app/persistence';
import { WebhookIndex } from '../webhook-index/webhook-index';
import { DeliveryMetrics } from '../delivery-metrics';
import { PARTITION_FENCE, PartitionFence, UNFENCED } from '../ownership/partition-fence';
import { DeliveryExecutor } from './delivery-executor';
import { AttemptOutcome, DeliveryItem, itemKey } from './delivery-item';
import { DeliveryRecorder } from './delivery-recorder';
import { SendBudget } from './send-budget';
import { WebhookLane } from './webhook-lane';

/**
 * Deliveries one account may hold in memory (queued or in flight) from one partition, across its
 * webhooks there: a quarter of the partition's in-flight budget, so one tenant's backlog cannot
 * fill a partition however many of its webhooks hash to it.
 */
export const ACCOUNT_HELD_MAX = 500;
/** How soon a delivery for a webhook this node does not know yet is offered again. */
const UNKNOWN_WEBHOOK_WAIT_MS = 2000;
/** How long a lane must have been idle to be dropped: past any rate-limit window (see dropWhenIdle). */
const LANE_DROP_AFTER_MS = 2000;
/** The attempt log's text for an attempt that threw before anything was sent. */
export const UNATTEMPTED_ERROR = 'not sent: the delivery node could not prepare the request (an internal error, described in the node log)';
/** How soon a delivery is offered again whose handling threw after its send, or whose unsent attempt could not be recorded. */
const UNEXPECTED_ERROR_WAIT_MS = 5000;

function accountKey(item: DeliveryItem): string {
  return `${item.partition}:${item.task.account_id}`;
}

interface SendGuard {
  mayStart: () => boolean;
  mayContinue: () => boolean;
}

/** A send in progress: its partition, and whether the consumer has answered (its outcome is then being recorded). */
interface InFlight {
  partition: number;
  answered: boolean;
}

/** queued: in its lane; parked: the lane was full, so it went to the due-time queue (settled once durable); duplicate: already held. */
export type Admission = 'queued' | 'parked' | 'duplicate';

/**
 * Holds one lane per webhook so a slow, failing or rate-limited webhook delays only itself, makes
 * each attempt, and records its outcome: success, a retry time in the due-time queue, or FAILED
 * after 24 hours.
 */
@Injectable()
export class DeliveryDispatcher {
  private readonly logger = new Logger(DeliveryDispatcher.name);
  private readonly lanes = new Map<string, WebhookLane>();
  /** Deliveries held in memory, so the stream and the retry queue never hand one over twice. */
  private readonly held = new Set<string>();
  /** `<partition>:<account>` -> deliveries held. */
  private readonly heldByAccount = new Map<string, number>();

  constructor(
    private readonly index: WebhookIndex,
    private readonly executor: DeliveryExecutor,
    private readonly recorder: DeliveryRecorder,
    private readonly metrics: DeliveryMetrics,
    private readonly webhooks: WebhooksRepository,
    /** Fencing: may this node send for the partition right now? (Leases can lapse between pulls.) */
    @Optional() @Inject(PARTITION_FENCE) private readonly fence: PartitionFence = UNFENCED,
    /** The node's sends in flight across all lanes; none for a dispatcher built alone (unit tests). */
    @Optional() private readonly budget?: SendBudget,
  ) {
    index.onChange((c) => {
      if (c.kind === 'put') this.lanes.get(c.webhook.id)?.limiter.setRate(c.webhook.rate_limit);
      else this.executor.forget(c.id);
      const id = c.kind === 'put' ? c.webhook.id : c.id;
      const lane = this.lanes.get(id);
      lane?.pump();
      if (lane) this.dropWhenIdle(lane);
    });
  }

  /**
   * Takes a delivery into its webhook's lane. A full lane parks it in the due-time queue instead, to
   * be offered again about when the lane will have drained, so no source waits on a busy webhook.
   */
  admit(item: DeliveryItem): Admission {
    const key = itemKey(item.task);
    if (this.held.has(key)) return 'duplicate';
    const lane = this.lane(item.task.webhook_id);
    lane.accountKey ??= accountKey(item);
    lane.partition ??= item.partition;
    const backlog = lane.queue.length + lane.inFlight;
    if (backlog >= lane.capacity || (this.heldByAccount.get(accountKey(item)) ?? 0) >= ACCOUNT_HELD_MAX) {
      this.park(item, Math.max(1000, (backlog / lane.limiter.rate) * 1000));
      this.dropWhenIdle(lane); // a lane made only to park: no send will end in it to look again
      return 'parked';
    }
    this.hold(item, key);
    lane.queue.push(item);
    lane.pump();
    return 'queued';
  }

  /** Webhooks whose lane takes no more work now: the retry scanner leaves their due rows be. */
  fullWebhooks(): string[] {
    const out: string[] = [];
    for (const lane of this.lanes.values()) {
      const capped = lane.accountKey !== undefined && (this.heldByAccount.get(lane.accountKey) ?? 0) >= ACCOUNT_HELD_MAX;
      if (capped || lane.queue.length + lane.inFlight >= lane.capacity) out.push(lane.webhookId);
    }
    return out;
  }

  /** Sends a delivery to the due-time queue, to be offered again in about `ms` (jittered). */
  private park(item: DeliveryItem, ms: number): void {
    this.metrics.parked.inc();
    void this.recorder.state(item, 'PENDING', new Date(Date.now() + ms * (0.8 + Math.random() * 0.4))).then(() => item.settle());
  }

  private hold(item: DeliveryItem, key: string): void {
    this.held.add(key);
    const a = accountKey(item);
    this.heldByAccount.set(a, (this.heldByAccount.get(a) ?? 0) + 1);
  }

  private unhold(item: DeliveryItem, key = itemKey(item.task)): void {
    if (!this.held.delete(key)) return;
    const a = accountKey(item);
    const n = (this.heldByAccount.get(a) ?? 1) - 1;
    if (n > 0) this.heldByAccount.set(a, n);
    else this.heldByAccount.delete(a);
  }

  /**
   * Marks deliveries as held before they are admitted, while their copy is checked against the
   * database: a second copy arriving meanwhile is then a duplicate, never a second send.
   */
  reserve(tasks: readonly DeliveryItem['task'][]): void {
    for (const t of tasks) this.held.add(itemKey(t));
  }

  unreserve(tasks: readonly DeliveryItem['task'][]): void {
    for (const t of tasks) this.held.delete(itemKey(t));
  }

  /** Deliveries held in memory here, queued or in flight. */
  get heldCount(): number {
    return this.held.size;
  }

  /** Is this delivery held in memory here (queued or in flight)? */
  holds(task: Pick<DeliveryItem['task'], 'event_id' | 'webhook_id'>): boolean {
    return this.held.has(itemKey(task));
  }

  /** Takes back the not-yet-started items of some partitions; the caller hands them back. */
  releasePartitions(partitions: Set<number>): DeliveryItem[] {
    const out: DeliveryItem[] = [];
    for (const lane of this.lanes.values()) {
      const taken = lane.drainQueued((i) => partitions.has(i.partition));
      if (!taken.length) continue;
      out.push(...taken);
      this.dropWhenIdle(lane); // emptied without a send ending: nothing else would look again
    }
    for (const item of out) this.unhold(item);
    return out;
  }

  /**
   * Resolves when nothing of these partitions is in flight any more: every send answered (at most the
   * send timeout, 10 s) and its outcome recorded. The caller keeps the lease until then. A send still
   * unanswered after `sendTimeoutMs` is given up on; an answered one is waited for however long its
   * recording takes (the database unreachable): its row's claim may run out meanwhile, and only
   * the lease kept here stops the next owner from sending it again.
   */
  async inFlightSettled(partitions: Set<number>, sendTimeoutMs = 15_000): Promise<void> {
    const started = Date.now();
    let noteAt = 0;
    for (;;) {
      const { sending, recording } = this.inflightFor(partitions);
      if (!sending && !recording) return;
      const now = Date.now();
      if (sending && now - started >= sendTimeoutMs) {
        this.logger.warn(`handing partitions back with deliveries still in flight (${sending} unanswered, ${recording} being recorded) after ${sendTimeoutMs / 1000} s`);
        return;
      }
      if (now >= noteAt) {
        this.logger.log(
          noteAt === 0
            ? `handing partitions back: waiting for their sends in flight (${sending + recording}) to be answered and recorded`
            : `handing partitions back: still waiting for ${recording} answered sends to be recorded (is the database reachable?)`,
        );
        noteAt = now + sendTimeoutMs;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Sends in progress: delivery key -> its partition, and whether it has been answered (then it is being recorded). */
  private readonly inflight = new Map<string, InFlight>();
  private inflightFor(partitions: Set<number>): { sending: number; recording: number } {
    let sending = 0;
    let recording = 0;
    for (const f of this.inflight.values()) {
      if (!partitions.has(f.partition)) continue;
      if (f.answered) recording++;
      else sending++;
    }
    return { sending, recording };
  }

  private lane(webhookId: string): WebhookLane {
    let lane = this.lanes.get(webhookId);
    if (!lane) {
      const rate = this.index.get(webhookId)?.rate_limit ?? 1;
      lane = new WebhookLane(webhookId, new ConsumerWindowLimiter(rate), (l, item, answered) => this.run(l, item, answered), Date.now, this.budget);
      lane.onIdle = (l) => this.dropWhenIdle(l);
      this.lanes.set(webhookId, lane);
    }
    return lane;
  }

  private async run(lane: WebhookLane, item: DeliveryItem, answered: () => void): Promise<void> {
    const key = itemKey(item.task);
    const flight: InFlight = { partition: item.partition, answered: false };
    this.inflight.set(key, flight);
    let requeued = false;
    try {
      requeued = await this.deliver(lane, item, answered, flight);
    } catch (err) {
      // Before the send: a failed attempt (see recordUnattempted). After it, its outcome is recorded already.
      const unsent = !flight.answered;
      this.logger.error({
        msg: `delivery failed unexpectedly${unsent ? ', recorded as a failed attempt' : ` after its send, offered again in ${UNEXPECTED_ERROR_WAIT_MS / 1000} s`}: ${(err as Error).message}`,
        event_id: item.task.event_id,
        webhook_id: item.task.webhook_id,
      });
      if (unsent) await this.recordUnattempted(item).catch(() => item.release(UNEXPECTED_ERROR_WAIT_MS));
      else item.release(UNEXPECTED_ERROR_WAIT_MS); // not at once: a delivery that keeps failing so must not spin
    } finally {
      this.inflight.delete(key);
      if (!requeued) this.unhold(item, key);
    }
  }

  /**
   * An attempt that threw (a bug, a secret that no longer decrypts) is a failed attempt like any
   * other: retried on the usual schedule and FAILED after 24 hours, with the reason in the attempt
   * log. Handed back instead, it would come back every few seconds for ever, never counted.
   */
  private async recordUnattempted(item: DeliveryItem): Promise<void> {
    // The attempt log is read by account admins: the cause (a key name, a bug) goes to the node's log only.
    const outcome: AttemptOutcome = { success: false, error: UNATTEMPTED_ERROR, latencyMs: 0 };
    const decision = decideAfterAttempt(outcome, { attemptsBefore: item.attemptsBefore, firstAttemptAt: item.firstAttemptAt, now: Date.now() });
    if (decision.kind !== 'record') throw new Error('no token to refresh');
    if (!this.fence.mayDeliver(item.partition)) return item.release(); // no longer ours: the owner's to record
    await this.recorder.attempt(item, outcome, decision.status, decision.next);
    if (decision.status === 'FAILED') this.metrics.failed.inc();
    item.settle();
  }

  /**
   * A lane with nothing left to do is dropped (with its place in the send budget's line) once it
   * has been idle LANE_DROP_AFTER_MS: past any rate-limit window, so a lane made afresh for the
   * webhook's next delivery allows exactly what this one would have. Lanes are then as many as the
   * webhooks with work of the last seconds, not every webhook this node ever delivered for. The
   * decrypted secrets and OAuth token of a webhook that is gone, or whose partition is no longer
   * this node's, go with its lane.
   */
  private dropWhenIdle(lane: WebhookLane): void {
    const idle = () => lane.idle && this.lanes.get(lane.webhookId) === lane;
    if (!idle()) return;
    lane.idleSince = Date.now(); // every path that calls this has just seen it idle
    if (this.dropping.has(lane)) return; // one timer per lane, however many paths saw it idle
    this.dropping.add(lane);
    const check = () => {
      if (!idle()) return void this.dropping.delete(lane); // busy again: its next idle schedules anew
      // A live webhook whose account holds its most here keeps its lane, so fullWebhooks() keeps
      // naming it and the retry scanner leaves its due rows be (they would only be parked again).
      const capped = lane.accountKey !== undefined && (this.heldByAccount.get(lane.accountKey) ?? 0) >= ACCOUNT_HELD_MAX;
      if (capped && this.index.get(lane.webhookId)) lane.idleSince = Date.now();
      const left = lane.idleSince + LANE_DROP_AFTER_MS - Date.now();
      if (left > 0) return void setTimeout(check, left).unref();
      this.dropping.delete(lane);
      lane.stop();
      this.lanes.delete(lane.webhookId);
      if (!this.index.get(lane.webhookId) || (lane.partition !== undefined && !this.fence.mayDeliver(lane.partition))) this.executor.forget(lane.webhookId);
    };
    setTimeout(check, LANE_DROP_AFTER_MS).unref();
  }

  /** Lanes with a drop scheduled (see dropWhenIdle). */
  private readonly dropping = new Set<WebhookLane>();

  /** Lanes held now (one per webhook with work here in the last LANE_DROP_AFTER_MS or so). */
  get laneCount(): number {
    return this.lanes.size;
  }

  /** The fence checks of a partition's sends, made once per partition (not two closures per send). */
  private readonly guards = new Map<number, SendGuard>();
  private guard(partition: number): SendGuard {
    let g = this.guards.get(partition);
    if (!g) {
      g = { mayStart: () => this.fence.mayDeliver(partition), mayContinue: () => this.fence.mayContinue(partition) };
      this.guards.set(partition, g);
    }
    return g;
  }

  /** Does the database know this webhook as live (or can it not say now)? Then the index will catch up. */
  private async mayStillBecomeKnown(webhookId: string): Promise<boolean> {
    try {
      return await this.webhooks.isLive(webhookId);
    } catch {
      return true; // database unreachable: waiting loses nothing, failing would
    }
  }

  /** Makes one attempt and records it; true when the item went back to the front of its lane. */
  private async deliver(lane: WebhookLane, item: DeliveryItem, answered: () => void, flight: InFlight): Promise<boolean> {
    if (!this.index.get(item.task.webhook_id) && (await this.mayStillBecomeKnown(item.task.webhook_id))) {
      // Created (or changed) moments ago: the index has not seen it yet. Wait for it, never fail for it.
      this.metrics.waitedForIndex.inc();
      await this.recorder.state(item, 'PENDING', new Date(Date.now() + UNKNOWN_WEBHOOK_WAIT_MS));
      item.settle();
      return false;
    }
    const webhook = this.index.deliverable(item.task.webhook_id);
    if (!webhook || webhook.account_id !== item.task.account_id) {
      await this.recorder.state(item, 'FAILED', null, 'webhook was deleted or is not active');
      this.metrics.cancelled.inc();
      item.settle();
      return false;
    }
    if (!this.fence.mayDeliver(item.partition)) {
      item.release(); // another node may own it now: hand it back unsent and unrecorded
      return false;
    }
    const outcome = await this.executor.attempt(webhook, item.task, !item.tokenRefreshed, this.guard(item.partition));
    flight.answered = true; // from here on, only its recording is waited for (see inFlightSettled)
    answered(); // the consumer has had it by now: the window may move on while the outcome is recorded
    if (outcome === 'fenced') {
      item.release();
      return false;
    }
    const decision = decideAfterAttempt(outcome, { attemptsBefore: item.attemptsBefore, firstAttemptAt: item.firstAttemptAt, authExpired: outcome.authExpired, now: Date.now() });
    this.metrics.observe(outcome);
    if (decision.kind === 'retry-with-fresh-token') {
      // The endpoint refused the token: one more send with a fresh one, paced like any other.
      await this.recorder.attempt(item, outcome, 'PENDING', null);
      lane.queue.unshift({ ...item, attemptsBefore: item.attemptsBefore + 1, firstAttemptAt: item.firstAttemptAt ?? Date.now(), tokenRefreshed: true });
      return true;
    }
    await this.recorder.attempt(item, outcome, decision.status, decision.next);
    if (decision.status === 'SUCCEEDED') this.metrics.publishToDelivery(item.task.time);
    if (decision.status === 'FAILED') this.metrics.failed.inc();
    item.settle();
    return false;
  }
}
