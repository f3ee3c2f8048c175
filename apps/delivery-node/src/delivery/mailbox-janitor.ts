import { Injectable, Logger } from '@nestjs/common';
import { ConsumerInfo, JetStreamManager, JsMsg, NatsConnection } from 'nats';
import {
  CLUSTER_TIMING,
  DELIVERIES_SUBJECT_PREFIX,
  DeliveryTask,
  InjectNats,
  KickedLoop,
  MAILBOX_CONSUMER_PREFIX,
  MAILBOX_SUBJECT_PREFIX,
  STREAM_DELIVERIES,
  settleMessage,
} from '@app/messaging';
import { DeliveriesRepository } from '@app/persistence';
import { DeliveryMetrics } from '../delivery-metrics';
import { ensureTaskConsumer, MAILBOX_IN_FLIGHT } from './partition-consumers';
import { noTaskLeftBefore } from './task-clocks';
import { readTaskMessage } from './task-message';

const PASS_EVERY_MS = 5000;
/** The janitor's consumer over the partition subjects (see drainStrays). */
const STRAYS_CONSUMER = 'strays';
const FETCH = 500;
/** Messages drained from one mailbox per pass at most; the next pass goes on. */
const MAX_PER_PASS = 20_000;
/**
 * A mailbox is drained once its node has been gone this long: past its lease, so the node can no
 * longer be sending what it holds (CLUSTER_TIMING: a node fences itself before its lease runs out).
 */
const DRAIN_AFTER_MS = CLUSTER_TIMING.memberTtlMs + CLUSTER_TIMING.leaseTtlMs;
/**
 * An empty mailbox's consumer is deleted once its node has been gone this long. Not sooner: on a
 * work-queue stream, deleting a consumer drops the messages only it would take, and a fan-out that has
 * not yet seen the membership change may still be publishing to it.
 */
const FORGET_AFTER_MS = 10 * 60_000;

/**
 * Node routing: the mailboxes of delivery nodes that are gone (crashed, stopped, or restarted under
 * a new id) still hold the tasks fan-out sent them. One node (the holder of partition 0) drains each
 * into the due-time queue, where the partitions' holders find them, and deletes its consumer once it
 * has long been empty. A mailbox subject with messages and no consumer (published to after its
 * consumer was deleted) gets a consumer again.
 */
@Injectable()
export class MailboxJanitor {
  private readonly logger = new Logger(MailboxJanitor.name);
  private readonly loop = new KickedLoop(
    () => this.pass(),
    PASS_EVERY_MS,
    (err) => this.logger.warn(`mailbox janitor pass failed: ${err.message}`),
    'mailbox-janitor',
  );
  private isJanitor: () => boolean = () => false;
  private liveTokens: () => Set<string> = () => new Set();
  /** Mailbox token -> since when this node has seen it without a live node. */
  private readonly goneSince = new Map<string, number>();

  constructor(
    @InjectNats() private readonly nc: NatsConnection,
    private readonly deliveries: DeliveriesRepository,
    private readonly metrics: DeliveryMetrics,
  ) {}

  start(isJanitor: () => boolean, liveTokens: () => Set<string>): void {
    this.isJanitor = isJanitor;
    this.liveTokens = liveTokens;
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async pass(): Promise<void> {
    if (!this.isJanitor()) {
      this.goneSince.clear();
      return;
    }
    const jsm = await this.nc.jetstreamManager();
    const consumers = new Map<string, ConsumerInfo>();
    let strays: ConsumerInfo | undefined;
    for await (const c of jsm.consumers.list(STREAM_DELIVERIES)) {
      if (c.name.startsWith(MAILBOX_CONSUMER_PREFIX)) consumers.set(c.name.slice(MAILBOX_CONSUMER_PREFIX.length), c);
      else if (c.name === STRAYS_CONSUMER) strays = c;
    }
    const stream = await jsm.streams.info(STREAM_DELIVERIES, { subjects_filter: `${MAILBOX_SUBJECT_PREFIX}*` });
    const queued = new Map(Object.entries(stream.state.subjects ?? {}).map(([subject, n]) => [subject.slice(MAILBOX_SUBJECT_PREFIX.length), n]));
    const live = this.liveTokens();
    const now = Date.now();
    const tokens = new Set([...consumers.keys(), ...queued.keys()]);
    for (const t of this.goneSince.keys()) if (!tokens.has(t) || live.has(t)) this.goneSince.delete(t);
    for (const token of tokens) {
      if (live.has(token)) continue;
      const since = this.goneSince.get(token) ?? now;
      this.goneSince.set(token, since);
      if (now - since < DRAIN_AFTER_MS) continue;
      const info = consumers.get(token);
      const waiting = queued.get(token) ?? 0;
      if (info && !waiting && !info.num_pending && !info.num_ack_pending) {
        if (now - since >= FORGET_AFTER_MS) await this.forget(jsm, token, since);
        continue;
      }
      if (waiting) {
        const drained = await this.drain(jsm, `${MAILBOX_CONSUMER_PREFIX}${token}`, `${MAILBOX_SUBJECT_PREFIX}${token}`, !info);
        if (drained) this.logger.warn(`moved ${drained} task messages from the mailbox of delivery node ${token}, which is gone, to the due-time queue`);
      }
    }
    await this.drainStrays(jsm, strays);
  }

  /**
   * Tasks on partition subjects (`deliveries.<p>`) have no consumer with node routing: published by
   * a config service of an earlier release, or by hand. Each would also hold the reconciler's bound
   * (the stream's oldest task) back for as long as the stream keeps it, so they go to the due-time
   * queue too, through one consumer over all partition subjects, deleted once they are gone (its
   * filter would keep partition consumers from being made, should the cluster go back to them).
   */
  private async drainStrays(jsm: JetStreamManager, strays: ConsumerInfo | undefined): Promise<void> {
    const subject = `${DELIVERIES_SUBJECT_PREFIX}*`;
    const stream = await jsm.streams.info(STREAM_DELIVERIES, { subjects_filter: subject });
    if (!Object.keys(stream.state.subjects ?? {}).length) {
      if (strays && !strays.num_pending && !strays.num_ack_pending) await jsm.consumers.delete(STREAM_DELIVERIES, STRAYS_CONSUMER);
      return;
    }
    const drained = await this.drain(jsm, STRAYS_CONSUMER, subject, !strays);
    if (drained) this.logger.warn(`moved ${drained} task messages found on partition subjects, which nothing reads with node routing, to the due-time queue`);
  }

  /**
   * Deletes a mailbox's consumer, looked at again first: the pass may have spent a while draining
   * others, and a node that came back under the same id meanwhile pulls from it (deleting it would
   * drop what fan-out has just published to it).
   */
  private async forget(jsm: JetStreamManager, token: string, since: number): Promise<void> {
    if (this.liveTokens().has(token)) return;
    const name = `${MAILBOX_CONSUMER_PREFIX}${token}`;
    const [info, stream] = await Promise.all([
      jsm.consumers.info(STREAM_DELIVERIES, name),
      jsm.streams.info(STREAM_DELIVERIES, { subjects_filter: `${MAILBOX_SUBJECT_PREFIX}${token}` }),
    ]);
    if (info.num_pending || info.num_ack_pending || info.num_waiting || stream.state.subjects?.[`${MAILBOX_SUBJECT_PREFIX}${token}`]) return;
    await jsm.consumers.delete(STREAM_DELIVERIES, name);
    this.goneSince.delete(token);
    this.logger.log(`deleted the empty mailbox of delivery node ${token}, gone for ${Math.round((Date.now() - since) / 1000)} s`);
  }

  /** Moves what a consumer's subject holds to the due-time queue (unreadable messages are dropped); returns the messages taken. */
  private async drain(jsm: JetStreamManager, name: string, subject: string, create: boolean): Promise<number> {
    if (create) await ensureTaskConsumer(jsm, name, subject, MAILBOX_IN_FLIGHT);
    const consumer = await this.nc.jetstream().consumers.get(STREAM_DELIVERIES, name);
    let drained = 0;
    while (drained < MAX_PER_PASS) {
      const batch: JsMsg[] = [];
      for await (const m of await consumer.fetch({ max_messages: FETCH, expires: 1000 })) batch.push(m);
      if (!batch.length) break;
      const tasks: DeliveryTask[] = [];
      // A rechecked copy may have a first copy on its way elsewhere, perhaps to be sent unchecked:
      // its rows are made due only once none can be (see noTaskLeftBefore).
      const rechecked: DeliveryTask[] = [];
      for (const m of batch) {
        const content = readTaskMessage(m.data);
        if (content) (content.recheck ? rechecked : tasks).push(...content.tasks);
      }
      try {
        if (tasks.length) await this.deliveries.markUnscheduledDue(tasks);
        if (rechecked.length) await this.deliveries.markUnscheduledDue(rechecked, await noTaskLeftBefore(this.nc));
      } catch (err) {
        for (const m of batch) settleMessage(m, 'nak');
        throw err;
      }
      for (const m of batch) settleMessage(m, 'ack');
      drained += batch.length;
      this.metrics.mailboxTasksDrained.inc(tasks.length + rechecked.length);
    }
    return drained;
  }
}
