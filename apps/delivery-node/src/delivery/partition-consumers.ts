import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, JetStreamManager, JsMsg, NatsConnection, nanos } from 'nats';
import {
  alreadyExists,
  ConcurrencyGate,
  deliveryConsumer,
  deliverySubject,
  DeliveryTask,
  InjectNats,
  LoopSession,
  mailboxConsumer,
  mailboxSubject,
  MAX_BACKOFF_MS,
  STREAM_DELIVERIES,
  SupervisedLoop,
  settleMessage,
} from '@app/messaging';
import { partitionOf } from '@app/hashing';
import { DeliveriesRepository } from '@app/persistence';
import { listForLog } from '../log-lists';
import { DeliveryDispatcher } from './delivery-dispatcher';
import { DeliveryItem, itemKey } from './delivery-item';
import { DeliveryRecorder } from './delivery-recorder';
import { RecentKeys } from './recent-keys';
import { FIRST_COPY_WINDOW_MS, noTaskLeftBefore } from './task-clocks';
import { readTaskMessage, TaskMessageContent } from './task-message';

/** Longer than a lane wait (about 11 s) plus a send (10 s) plus recording; short enough that a crashed node's tasks come back soon. */
export const ACK_WAIT_MS = 30_000;
/**
 * Tasks of one partition held unacked at most (the consumer's max_ack_pending). One webhook holds
 * at most a lane's capacity and one account at most ACCOUNT_HELD_MAX of them (see the dispatcher),
 * well below this, so a slow tenant leaves room for everybody else on the partition.
 */
export const PARTITION_IN_FLIGHT = 2000;
/**
 * JetStream API requests in flight for setting partitions' consumers up. A node taking hundreds
 * of partitions at once (start-up, a failover) otherwise floods the server, whose answers then time
 * out, lease renewals among them, and the node fences itself off everything it just took.
 */
const SETUP_CONCURRENCY = 16;
/**
 * Messages one partition's pull asks for at once: a fan-out message carries up to TASKS_PER_MESSAGE
 * deliveries, so this buffers a few thousand at most. (Not a byte budget: a pull whose bytes left
 * are fewer than the next message's size was seen to stall for good on nats-server 2.9.)
 */
const PULL_MESSAGES = 32;
/**
 * How long one pull waits on an idle partition; its heartbeats come at half that. Every pull, its
 * expiry and each heartbeat is a message per partition: 5 s pulls on 8192 partitions cost the node
 * 15 % of a core and nats-server 17 % idle, 15 s pulls 7 % each (`bench/partition-cost.ts`). A pull
 * lost with a JetStream leader is noticed after two missed heartbeats (15 s); a reconnect pulls anew at once.
 */
const PULL_EXPIRES_MS = 15_000;
/**
 * Node routing: tasks held unacked from this node's mailbox at most. It carries every partition the
 * node holds, so its budget is many partitions'; per webhook and per account the dispatcher's bounds
 * are what keep one tenant from filling it.
 */
export const MAILBOX_IN_FLIGHT = 20_000;
/**
 * Outcomes waiting to be recorded past which task messages are handed back (nak, HOLD_OFF_MS)
 * instead of taken. With the database away nothing is recorded, what the lanes cannot take is
 * parked, and parks wait in the recorder's memory: without this bound a node would take in all the
 * consumers' ack windows allow (20,000 mailbox messages of up to 100 tasks). The backlog stays in
 * NATS instead. A node keeping up has a few hundred; the bench's burst of 20,000 at most that.
 * Tasks being checked against the database count too: after an outage every message handed back
 * comes back redelivered, and is checked before it reaches a lane.
 */
export const RECORDER_BACKLOG_MAX = 50_000;
const HOLD_OFF_MS = 5000;
const HOLD_OFF_LOG_MS = 30_000;
/** How long a rechecked copy's deliveries are remembered (see PartitionConsumers.recentRechecks). */
const RECHECK_MEMORY_MS = 60_000;
/** How soon a message whose deliveries could not be checked (database unreachable) is offered again. */
const RECHECK_RETRY_MS = 2000;
/** How often the partitions whose consumer keeps failing are looked at; they are logged when that set first appears, then once a minute. */
const STALLED_CHECK_MS = 10_000;
const STALLED_LOG_MS = 60_000;
/**
 * An owned partition whose consumer has not been running for this long is stalled: longer than a
 * restart after one failure or a start in the set-up queue takes when NATS answers.
 */
export const STALLED_AFTER_MS = 3000;

/**
 * Makes a durable pull consumer of the deliveries stream on one subject (a partition's, a mailbox),
 * or adopts the one there, with `budget` as its max_ack_pending: one made by an earlier version, or
 * by the mailbox janitor while its node was away, keeps its own budget until told otherwise.
 */
export async function ensureTaskConsumer(jsm: JetStreamManager, name: string, subject: string, budget: number): Promise<void> {
  await jsm.consumers
    .add(STREAM_DELIVERIES, {
      durable_name: name,
      filter_subject: subject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(ACK_WAIT_MS),
      max_ack_pending: budget,
      max_deliver: -1,
    })
    .catch(async (err) => {
      if (!alreadyExists(err)) throw err;
      const info = await jsm.consumers.info(STREAM_DELIVERIES, name);
      if (info.config.max_ack_pending !== budget) await jsm.consumers.update(STREAM_DELIVERIES, name, { max_ack_pending: budget });
    });
}

/**
 * Partition routing: one durable pull consumer per owned partition (`deliver-<p>` on
 * `deliveries.<p>`). Node routing (useMailbox): one durable pull consumer for this node's mailbox
 * (`mailbox-<node>` on `deliveries.node.<node>`), whose tasks of partitions this node does not hold
 * go to the due-time queue. Either way messages of tasks go into the dispatcher and each is acked once the outcomes of all its deliveries are recorded
 * (see MessageSettlement). A task whose webhook lane is full
 * goes to the due-time queue in Postgres instead of waiting here, so no webhook can fill the
 * partition's ack window.
 */
@Injectable()
export class PartitionConsumers implements OnApplicationShutdown {
  private readonly running = new Map<number, SupervisedLoop>();
  /** Messages taken but not yet acked, by stream sequence: kept alive with `working()` so a long lane wait never triggers a redelivery. */
  private readonly unacked = new Map<number, JsMsg>();
  /** Deliveries handed back to the due-time queue, not durable yet. */
  private readonly parking = new Set<Promise<void>>();
  /**
   * Node routing: deliveries of rechecked copies taken from the mailbox lately (key -> until when).
   * A rechecked copy can come before the first copy of the same delivery (two fan-outs of one event
   * at once); the first copy, though fresh, is then read like a copy, not sent unchecked.
   */
  private readonly recentRechecks = new RecentKeys(RECHECK_MEMORY_MS, 100_000);
  private readonly keepAlive = setInterval(() => {
    for (const msg of this.unacked.values()) settleMessage(msg, 'working');
  }, ACK_WAIT_MS / 3).unref();
  private readonly logger = new Logger(PartitionConsumers.name);
  private readonly setup = new ConcurrencyGate(SETUP_CONCURRENCY);
  /** One summary instead of a log line per partition loop: a NATS outage fails them by the hundred. */
  private readonly stalledCheck = setInterval(() => this.logStalled(), STALLED_CHECK_MS).unref();
  private stalledLoggedAt?: number;
  /** Node routing: this node's mailbox, and the partitions it holds (their tasks are taken from it). */
  private mailbox?: { loop: SupervisedLoop; nodeId: string; partitions: number; held: Set<number>; partitionOf: Map<string, number> };

  constructor(
    @InjectNats() private readonly nc: NatsConnection,
    private readonly dispatcher: DeliveryDispatcher,
    private readonly deliveries: DeliveriesRepository,
    private readonly recorder: DeliveryRecorder,
  ) {}

  onApplicationShutdown(): void {
    clearInterval(this.keepAlive);
    clearInterval(this.stalledCheck);
  }

  /**
   * Partitions this node owns whose stream consumer has not been running for STALLED_AFTER_MS (no
   * JetStream leader for it, say): tasks that other nodes' fan-out sends them wait in the stream
   * until it runs again; it is tried again at most MAX_BACKOFF_MS apart. Deliveries this node's own
   * fan-out claims go on.
   */
  stalled(now = Date.now()): number[] {
    if (this.mailbox) return (this.mailbox.loop.downForMs(now) ?? 0) >= STALLED_AFTER_MS ? this.active : [];
    return [...this.running]
      .filter(([, loop]) => (loop.downForMs(now) ?? 0) >= STALLED_AFTER_MS)
      .map(([p]) => p)
      .sort((a, b) => a - b);
  }

  private logStalled(): void {
    const stalled = this.stalled();
    if (!stalled.length) {
      if (this.stalledLoggedAt !== undefined) this.logger.log('the stream consumers of every partition run again');
      this.stalledLoggedAt = undefined;
      return;
    }
    const now = Date.now();
    if (this.stalledLoggedAt !== undefined && now - this.stalledLoggedAt < STALLED_LOG_MS) return;
    this.stalledLoggedAt = now;
    const why = (this.mailbox?.loop ?? this.running.get(stalled[0]))?.lastError ?? 'its first start has not finished';
    this.logger.warn(
      `the stream consumers of partitions ${listForLog(stalled)} have not been running for ${STALLED_AFTER_MS} ms or more, each tried again at most ${MAX_BACKOFF_MS} ms apart; the first's last error: ${why}`,
    );
  }

  /** Messages taken from each partition's stream and not yet acked (deliveries held in lanes or being recorded). */
  unackedByPartition(): Map<number, number> {
    const out = new Map<number, number>();
    if (this.mailbox) return out; // a mailbox message carries any partitions (the reconciler does not ask then)
    for (const msg of this.unacked.values()) {
      const p = Number(msg.subject.slice(msg.subject.lastIndexOf('.') + 1));
      out.set(p, (out.get(p) ?? 0) + 1);
    }
    return out;
  }

  get active(): number[] {
    return [...(this.mailbox?.held ?? this.running.keys())].sort((a, b) => a - b);
  }

  /**
   * Node routing: take tasks from this node's mailbox instead of a consumer per partition. Called
   * before any start(); the mailbox is pulled from the first start() until stopMailbox().
   */
  useMailbox(nodeId: string, partitions: number): void {
    const loop = new SupervisedLoop('mailbox', (s) => this.consumeMailbox(s));
    this.mailbox = { loop, nodeId, partitions, held: new Set(), partitionOf: new Map() };
  }

  /** Node routing: starts pulling the mailbox; resolves once it runs. */
  startMailbox(): Promise<void> {
    return this.mailbox?.loop.start() ?? Promise.resolve();
  }

  /** Node routing: stops pulling the mailbox (after every partition was stopped); what is in it waits for this node or the mailbox janitor. */
  async stopMailbox(): Promise<void> {
    await this.mailbox?.loop.stop();
    await Promise.all(this.parking);
  }

  /** Starts pulling a partition; resolves once its consumer runs. It is restarted whenever it ends, until stop(). */
  start(partition: number): Promise<void> {
    if (this.mailbox) {
      this.mailbox.held.add(partition);
      return this.mailbox.loop.start();
    }
    let loop = this.running.get(partition);
    if (!loop) {
      loop = new SupervisedLoop(`partition-${partition}`, (s) => this.consume(partition, s), { quiet: true });
      this.running.set(partition, loop);
    }
    return loop.start();
  }

  private async consume(partition: number, session: LoopSession): Promise<void> {
    const messages = await this.setup.run(() => this.attach(partition, session));
    if (!messages) return;
    session.onStop(() => messages.stop());
    session.ready();
    for await (const msg of messages) this.take(partition, msg);
  }

  /** Creates (or adopts) the partition's durable consumer and starts pulling from it; undefined once stopping. */
  private async attach(partition: number, session: LoopSession) {
    if (session.stopping) return undefined;
    const name = deliveryConsumer(partition);
    await ensureTaskConsumer(await this.nc.jetstreamManager(), name, deliverySubject(partition), PARTITION_IN_FLIGHT);
    const consumer = await this.nc.jetstream().consumers.get(STREAM_DELIVERIES, name);
    if (session.stopping) return undefined;
    return consumer.consume({ max_messages: PULL_MESSAGES, expires: PULL_EXPIRES_MS, abort_on_missing_resource: true });
  }

  private async consumeMailbox(session: LoopSession): Promise<void> {
    const box = this.mailbox!;
    const name = mailboxConsumer(box.nodeId);
    await ensureTaskConsumer(await this.nc.jetstreamManager(), name, mailboxSubject(box.nodeId), MAILBOX_IN_FLIGHT);
    const consumer = await this.nc.jetstream().consumers.get(STREAM_DELIVERIES, name);
    if (session.stopping) return;
    const messages = await consumer.consume({ max_messages: PULL_MESSAGES * 4, expires: PULL_EXPIRES_MS, abort_on_missing_resource: true });
    session.onStop(() => messages.stop());
    session.ready();
    for await (const msg of messages) this.takeFromMailbox(msg);
  }

  /** Stops pulling a partition; what is not started yet is handed back to NATS (nak). */
  async stop(partitions: number[]): Promise<void> {
    for (const p of partitions) this.mailbox?.held.delete(p);
    await Promise.all(
      partitions.map(async (p) => {
        const loop = this.running.get(p);
        this.running.delete(p);
        await loop?.stop();
      }),
    );
    const set = new Set(partitions);
    for (const item of this.dispatcher.releasePartitions(set)) item.release();
    await this.dispatcher.inFlightSettled(set);
    await Promise.all(this.parking);
  }

  private take(partition: number, msg: JsMsg): void {
    if (!this.running.has(partition)) {
      settleMessage(msg, 'nak'); // buffered before stop(): the partition is no longer ours to deliver
      return;
    }
    // Our own message again (its ack wait ran out while we hold it): the held one settles it, and
    // acking this copy would swallow a later hand-back.
    if (this.unacked.has(msg.seq)) return;
    if (this.holdingOff(msg)) return;
    const content = readTaskMessage(msg.data);
    if (!content) {
      this.logger.error(`unreadable delivery task on ${msg.subject} (stream sequence ${msg.seq}); dropped`);
      settleMessage(msg, 'term');
      return;
    }
    if (content.invalid) this.logger.error(`${content.invalid} unreadable delivery tasks in the message on ${msg.subject} (stream sequence ${msg.seq}); left out`);
    const settlement = new MessageSettlement(msg, content.tasks.length, this);
    this.unacked.set(msg.seq, msg);
    // A first copy is sent as it comes. A copy handed out again, or of an event fanned out again,
    // may have been sent already: only deliveries still waiting for their first send go on.
    if (content.recheck || msg.redelivered) void this.whileChecking(content.tasks.length, this.takeChecked(partition, content.tasks, settlement));
    else for (const task of content.tasks) this.offer(partition, task, settlement);
  }

  /** While outcomes cannot be recorded fast enough (see RECORDER_BACKLOG_MAX): hands the message back for a while. */
  private holdingOff(msg: JsMsg): boolean {
    const backlog = this.recorder.backlog + this.checking;
    if (backlog < RECORDER_BACKLOG_MAX) return false;
    settleMessage(msg, 'nak', HOLD_OFF_MS);
    const now = Date.now();
    if (now - this.holdOffLoggedAt >= HOLD_OFF_LOG_MS) {
      this.holdOffLoggedAt = now;
      this.logger.warn(
        `${backlog} deliveries wait to be recorded or checked (is the database reachable?): task messages are handed back for ${HOLD_OFF_MS / 1000} s until they are written`,
      );
    }
    return true;
  }

  private holdOffLoggedAt = -Infinity;
  /** Tasks taken but still being checked against the database: not in a lane or parked yet, so not in the recorder's backlog either. */
  private checking = 0;

  private whileChecking(tasks: number, work: Promise<void>): Promise<void> {
    this.checking += tasks;
    return work.finally(() => {
      this.checking -= tasks;
    });
  }

  /** A message from this node's mailbox: its tasks carry any partitions (see takeMailboxTasks). */
  private takeFromMailbox(msg: JsMsg): void {
    if (this.unacked.has(msg.seq)) return; // see take()
    if (this.holdingOff(msg)) return;
    const content = readTaskMessage(msg.data);
    if (!content) {
      this.logger.error(`unreadable delivery task on ${msg.subject} (stream sequence ${msg.seq}); dropped`);
      settleMessage(msg, 'term');
      return;
    }
    if (content.invalid) this.logger.error(`${content.invalid} unreadable delivery tasks in the message on ${msg.subject} (stream sequence ${msg.seq}); left out`);
    const settlement = new MessageSettlement(msg, content.tasks.length, this);
    this.unacked.set(msg.seq, msg);
    if (content.recheck) for (const t of content.tasks) this.recentRechecks.add(itemKey(t));
    const unchecked = isFreshFirstCopy(msg, content) && !content.tasks.some((t) => this.recentRechecks.has(itemKey(t)));
    const taken = this.whileChecking(content.tasks.length, this.takeMailboxTasks(content.tasks, settlement, !unchecked, content.recheck)).finally(() => this.parking.delete(taken));
    this.parking.add(taken);
  }

  /**
   * Tasks from a mailbox: those of partitions held here go to the lanes; the others (routed by a
   * membership this node no longer has, or just before a handover) to the due-time queue, where their
   * holder finds them. With `check`, only those whose row still waits for a first send go on: with
   * node routing no partition consumer tells the reconciler that a task is still on its way, so a row
   * may have been re-driven (made due, and sent by its holder) while a copy that came late waited in
   * a mailbox; every copy handed out again and every copy of an event fanned out again is checked
   * too, and so is a message with tasks for elsewhere (rare): should the check or the write fail,
   * the whole message comes back later, with nothing of it taken.
   */
  private async takeMailboxTasks(tasks: DeliveryTask[], settlement: MessageSettlement, check: boolean, recheck: boolean): Promise<void> {
    const box = this.mailbox!;
    const partition = (t: DeliveryTask) => {
      let p = box.partitionOf.get(t.webhook_id); // a sha256 per task costs a busy node a few percent
      if (p === undefined) {
        if (box.partitionOf.size >= 200_000) box.partitionOf.clear();
        box.partitionOf.set(t.webhook_id, (p = partitionOf(t.webhook_id, box.partitions)));
      }
      return p;
    };
    const fresh = tasks.filter((t) => {
      if (!this.dispatcher.holds(t)) return true;
      settlement.done(); // a copy of a delivery held here: the held one's own message settles it
      return false;
    });
    if (!fresh.length) return;
    const held = fresh.filter((t) => box.held.has(partition(t)));
    const foreign = fresh.filter((t) => !box.held.has(partition(t)));
    if (!check && !foreign.length) {
      for (const task of held) this.offer(partition(task), task, settlement);
      return;
    }
    // A rechecked copy makes due only rows no other copy can still be on its way for; the stream is
    // asked for that bound only when a rechecked copy has rows to make due.
    let dueBound: Promise<Date> | undefined;
    const markDue = (rows: DeliveryTask[]) =>
      recheck ? (dueBound ??= noTaskLeftBefore(this.nc)).then((bound) => this.deliveries.markUnscheduledDue(rows, bound)) : this.deliveries.markUnscheduledDue(rows);
    this.dispatcher.reserve(held);
    let waiting: Set<string>;
    try {
      const [rows] = await Promise.all([held.length ? this.deliveries.waitingForTask(held) : [], foreign.length ? markDue(foreign) : 0]);
      waiting = new Set(rows.map(itemKey));
    } catch (err) {
      this.dispatcher.unreserve(held);
      this.logger.warn(
        `could not check ${fresh.length} delivery tasks from the mailbox against the database, offered again in ${RECHECK_RETRY_MS / 1000} s: ${(err as Error).message}`,
      );
      settlement.handBack(RECHECK_RETRY_MS);
      return;
    }
    this.dispatcher.unreserve(held);
    for (let i = 0; i < foreign.length; i++) settlement.done();
    const lost: DeliveryTask[] = [];
    for (const task of held) {
      if (!waiting.has(itemKey(task).toLowerCase())) settlement.done();
      else if (this.consuming(partition(task))) this.offer(partition(task), task, settlement);
      else lost.push(task); // its partition went while the check ran
    }
    if (!lost.length) return;
    await markDue(lost).catch((err: Error) =>
      this.logger.warn(`could not hand ${lost.length} delivery tasks of partitions just lost to the due-time queue; the reconciler will: ${err.message}`),
    );
    for (let i = 0; i < lost.length; i++) settlement.done();
  }

  /** Is this node pulling the partition's stream (so its deliveries are this node's to send)? */
  consuming(partition: number): boolean {
    return this.mailbox ? this.mailbox.held.has(partition) : this.running.has(partition);
  }

  /**
   * A delivery that fan-out recorded claimed on a partition consumed here (see FanoutService): to
   * its lane at once, as a first copy from the partition's stream would go, with nothing to ack.
   * Handed back, or no longer ours, it goes to the due-time queue; if this node dies first, its
   * claim runs out and the due-time queue has it all the same.
   */
  takeClaimed(partition: number, task: DeliveryTask): void {
    const item: DeliveryItem = {
      task,
      partition,
      attemptsBefore: 0,
      settle: () => undefined,
      release: (delayMs) => this.park(item, delayMs, () => undefined),
    };
    if (this.consuming(partition)) this.dispatcher.admit(item);
    else item.release();
  }

  private offer(partition: number, task: DeliveryTask, settlement: MessageSettlement): void {
    const item: DeliveryItem = {
      task,
      partition,
      attemptsBefore: 0,
      settle: () => settlement.done(),
      release: (delayMs) => settlement.release(item, delayMs),
    };
    // A copy of a delivery this node already holds: the held one's own message settles it.
    if (this.dispatcher.admit(item) === 'duplicate') settlement.done();
  }

  private async takeChecked(partition: number, tasks: DeliveryTask[], settlement: MessageSettlement): Promise<void> {
    const fresh = tasks.filter((t) => {
      if (!this.dispatcher.holds(t)) return true;
      settlement.done();
      return false;
    });
    if (!fresh.length) return;
    this.dispatcher.reserve(fresh);
    let waiting: Set<string>;
    try {
      waiting = new Set((await this.deliveries.waitingForTask(fresh)).map(itemKey));
    } catch (err) {
      this.dispatcher.unreserve(fresh);
      this.logger.warn(`could not check ${fresh.length} delivery tasks against the database, offered again in ${RECHECK_RETRY_MS / 1000} s: ${(err as Error).message}`);
      settlement.handBack(RECHECK_RETRY_MS);
      return;
    }
    this.dispatcher.unreserve(fresh);
    if (!this.consuming(partition)) return settlement.handBack();
    for (const task of fresh) {
      if (waiting.has(itemKey(task).toLowerCase())) this.offer(partition, task, settlement);
      else settlement.done();
    }
  }

  /** A message's deliveries are all settled: ack it. */
  acked(msg: JsMsg): void {
    this.unacked.delete(msg.seq);
    settleMessage(msg, 'ack');
  }

  /** A message goes back to the stream whole (nothing of it was started). */
  handedBack(msg: JsMsg, delayMs?: number): void {
    this.unacked.delete(msg.seq);
    settleMessage(msg, 'nak', delayMs);
  }

  /**
   * One delivery goes back undelivered to the due-time queue (the partition's owner takes it from
   * there): one of a message of several, since a message cannot be handed back in part, or one
   * that fan-out handed over. stop() waits for these writes.
   */
  park(item: DeliveryItem, delayMs: number | undefined, then: () => void): void {
    const parked = this.recorder
      .state(item, 'PENDING', new Date(Date.now() + (delayMs ?? 0)))
      .then(then)
      .finally(() => this.parking.delete(parked));
    this.parking.add(parked);
  }
}

/**
 * A mailbox message handed out for the first time, of deliveries recorded for the first time, and
 * stored soon after their rows were written: its rows cannot have been re-driven (see FIRST_COPY_WINDOW_MS).
 */
function isFreshFirstCopy(msg: JsMsg, content: TaskMessageContent): boolean {
  if (content.recheck || msg.redelivered || content.recordedAt === undefined) return false;
  return msg.info.timestampNanos / 1e6 - content.recordedAt <= FIRST_COPY_WINDOW_MS;
}

/**
 * Acks a message once every delivery it carries is settled. A delivery handed back goes back with
 * its message when it is the only one (nak), else to the due-time queue.
 */
class MessageSettlement {
  private left: number;

  constructor(
    private readonly msg: JsMsg,
    private readonly count: number,
    private readonly owner: Pick<PartitionConsumers, 'acked' | 'handedBack' | 'park'>,
  ) {
    this.left = count;
  }

  done(): void {
    if (--this.left === 0) this.owner.acked(this.msg);
  }

  release(item: DeliveryItem, delayMs?: number): void {
    if (this.count === 1) this.owner.handedBack(this.msg, delayMs);
    else this.owner.park(item, delayMs, () => this.done());
  }

  /** The whole message back, before any of its deliveries was taken. */
  handBack(delayMs?: number): void {
    this.owner.handedBack(this.msg, delayMs);
  }
}
