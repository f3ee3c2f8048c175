import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, JsMsg, NatsConnection, nanos } from 'nats';
import { alreadyExists, ConcurrencyGate, deliveryConsumer, deliverySubject, DeliveryTask, InjectNats, LoopSession, STREAM_DELIVERIES, SupervisedLoop } from '@app/messaging';
import { isUuid } from '@app/domain';
import { DeliveryDispatcher } from './delivery-dispatcher';
import { DeliveryItem } from './delivery-item';

/** Longer than a lane wait (about 11 s) plus a send (10 s) plus recording; short enough that a crashed node's tasks come back soon. */
const ACK_WAIT_MS = 30_000;
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
 * One durable pull consumer per owned partition (`deliver-<p>` on `deliveries.<p>`): pulls tasks
 * into the dispatcher and acks each once its outcome is recorded. A task whose webhook lane is full
 * goes to the due-time queue in Postgres instead of waiting here, so no webhook can fill the
 * partition's ack window.
 */
@Injectable()
export class PartitionConsumers implements OnApplicationShutdown {
  private readonly running = new Map<number, SupervisedLoop>();
  /** Tasks taken but not yet acked: kept alive with `working()` so a long lane wait never triggers a redelivery. */
  private readonly unacked = new Set<JsMsg>();
  private readonly keepAlive = setInterval(() => {
    for (const msg of this.unacked) msg.working();
  }, ACK_WAIT_MS / 3).unref();
  private readonly logger = new Logger(PartitionConsumers.name);
  private readonly setup = new ConcurrencyGate(SETUP_CONCURRENCY);

  constructor(
    @InjectNats() private readonly nc: NatsConnection,
    private readonly dispatcher: DeliveryDispatcher,
  ) {}

  onApplicationShutdown(): void {
    clearInterval(this.keepAlive);
  }

  /** Tasks taken from each partition's stream and not yet acked (held in lanes or being recorded). */
  unackedByPartition(): Map<number, number> {
    const out = new Map<number, number>();
    for (const msg of this.unacked) {
      const p = Number(msg.subject.slice(msg.subject.lastIndexOf('.') + 1));
      out.set(p, (out.get(p) ?? 0) + 1);
    }
    return out;
  }

  get active(): number[] {
    return [...this.running.keys()].sort((a, b) => a - b);
  }

  /** Starts pulling a partition; resolves once its consumer runs. It is restarted whenever it ends, until stop(). */
  start(partition: number): Promise<void> {
    let loop = this.running.get(partition);
    if (!loop) {
      loop = new SupervisedLoop(`partition-${partition}`, (s) => this.consume(partition, s));
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
    const jsm = await this.nc.jetstreamManager();
    const name = deliveryConsumer(partition);
    await jsm.consumers
      .add(STREAM_DELIVERIES, {
        durable_name: name,
        filter_subject: deliverySubject(partition),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(ACK_WAIT_MS),
        max_ack_pending: PARTITION_IN_FLIGHT,
        max_deliver: -1,
      })
      .catch(async (err) => {
        if (!alreadyExists(err)) throw err;
        // A consumer made by an earlier version keeps its budget until told otherwise.
        const info = await jsm.consumers.info(STREAM_DELIVERIES, name);
        if (info.config.max_ack_pending !== PARTITION_IN_FLIGHT) await jsm.consumers.update(STREAM_DELIVERIES, name, { max_ack_pending: PARTITION_IN_FLIGHT });
      });
    const consumer = await this.nc.jetstream().consumers.get(STREAM_DELIVERIES, name);
    if (session.stopping) return undefined;
    return consumer.consume({ max_messages: 200, expires: 5000, abort_on_missing_resource: true });
  }

  /** Stops pulling a partition; what is not started yet is handed back to NATS (nak). */
  async stop(partitions: number[]): Promise<void> {
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
  }

  private take(partition: number, msg: JsMsg): void {
    if (!this.running.has(partition)) {
      msg.nak(); // buffered before stop(): the partition is no longer ours to deliver
      return;
    }
    const task = readTask(msg);
    if (!task) {
      this.logger.error(`unreadable delivery task on ${msg.subject} (stream sequence ${msg.seq}); dropped`);
      msg.term();
      return;
    }
    const item: DeliveryItem = {
      task,
      partition,
      attemptsBefore: 0,
      settle: () => {
        this.unacked.delete(msg);
        msg.ack();
      },
      release: (delayMs) => {
        this.unacked.delete(msg);
        msg.nak(delayMs);
      },
    };
    // A copy of a task this node already holds is left alone: the held one's ack or hand-back
    // settles it, and acking the copy could swallow a later hand-back.
    if (this.dispatcher.admit(item) !== 'duplicate') this.unacked.add(msg);
  }
}

/** A task as fan-out or the config service wrote it, or undefined for anything else on the subject. */
function readTask(msg: JsMsg): DeliveryTask | undefined {
  let t: Partial<DeliveryTask>;
  try {
    t = msg.json<Partial<DeliveryTask>>();
  } catch {
    return undefined;
  }
  const ok =
    t &&
    typeof t === 'object' &&
    isUuid(t.event_id) &&
    isUuid(t.webhook_id) &&
    isUuid(t.account_id) &&
    typeof t.type === 'string' &&
    typeof t.time === 'string' &&
    !Number.isNaN(Date.parse(t.time)) &&
    typeof t.is_test === 'boolean';
  return ok ? (t as DeliveryTask) : undefined;
}
