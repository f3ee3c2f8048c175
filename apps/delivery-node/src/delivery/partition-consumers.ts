import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AckPolicy, ConsumerMessages, DeliverPolicy, JsMsg, NatsConnection, nanos } from 'nats';
import { deliveryConsumer, deliverySubject, DeliveryTask, InjectNats, STREAM_DELIVERIES } from '@app/messaging';
import { DeliveryDispatcher } from './delivery-dispatcher';
import { DeliveryItem } from './delivery-item';

/** Longer than a lane wait (about 11 s) plus a send (10 s) plus recording; short enough that a crashed node's tasks come back soon. */
const ACK_WAIT_MS = 30_000;

/**
 * One durable pull consumer per owned partition (`deliver-<p>` on `deliveries.<p>`): pulls tasks
 * into the dispatcher and acks each once its outcome is recorded. A task whose webhook lane is full
 * goes to the due-time queue in Postgres instead of waiting here, so no webhook can fill the
 * partition's ack window.
 */
@Injectable()
export class PartitionConsumers implements OnApplicationShutdown {
  private readonly logger = new Logger(PartitionConsumers.name);
  private readonly running = new Map<number, ConsumerMessages>();
  /** Partitions stopped on purpose: a consumer that ends by itself is restarted only if not here. */
  private readonly stopped = new Set<number>();
  /** Tasks taken but not yet acked: kept alive with `working()` so a long lane wait never triggers a redelivery. */
  private readonly unacked = new Set<JsMsg>();
  private readonly keepAlive = setInterval(() => {
    for (const msg of this.unacked) msg.working();
  }, ACK_WAIT_MS / 3).unref();

  constructor(
    @InjectNats() private readonly nc: NatsConnection,
    private readonly dispatcher: DeliveryDispatcher,
  ) {}

  onApplicationShutdown(): void {
    clearInterval(this.keepAlive);
  }

  get active(): number[] {
    return [...this.running.keys()].sort((a, b) => a - b);
  }

  async start(partition: number): Promise<void> {
    this.stopped.delete(partition);
    if (this.running.has(partition)) return;
    const jsm = await this.nc.jetstreamManager();
    const name = deliveryConsumer(partition);
    await jsm.consumers
      .add(STREAM_DELIVERIES, {
        durable_name: name,
        filter_subject: deliverySubject(partition),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(ACK_WAIT_MS),
        max_ack_pending: 1000,
        max_deliver: -1,
      })
      .catch((err) => {
        if (!/already in use|exists/i.test(err.message)) throw err;
      });
    const consumer = await this.nc.jetstream().consumers.get(STREAM_DELIVERIES, name);
    if (this.stopped.has(partition) || this.running.has(partition)) return; // stopped (or started) meanwhile
    const messages = await consumer.consume({ max_messages: 200, expires: 5000 });
    this.running.set(partition, messages);
    void (async () => {
      for await (const msg of messages) this.take(partition, msg);
    })()
      .catch((err) => this.logger.warn(`partition ${partition} consumer stopped: ${err.message}`))
      .finally(() => {
        // Ended by itself while we still own the partition: start pulling again.
        if (this.running.get(partition) !== messages) return;
        this.running.delete(partition);
        setTimeout(() => void this.restart(partition), 1000).unref();
      });
  }

  private async restart(partition: number): Promise<void> {
    if (this.stopped.has(partition) || this.running.has(partition)) return;
    await this.start(partition).catch((err) => {
      this.logger.warn(`partition ${partition} consumer restart failed, retrying: ${err.message}`);
      setTimeout(() => void this.restart(partition), 1000).unref();
    });
  }

  /** Stops pulling a partition; what is not started yet is handed back to NATS (nak). */
  async stop(partitions: number[]): Promise<void> {
    for (const p of partitions) {
      this.stopped.add(p);
      const messages = this.running.get(p);
      this.running.delete(p);
      messages?.stop();
    }
    const set = new Set(partitions);
    for (const item of this.dispatcher.releasePartitions(set)) item.release();
    await this.dispatcher.inFlightSettled(set);
  }

  private take(partition: number, msg: JsMsg): void {
    if (!this.running.has(partition)) {
      msg.nak(); // buffered before stop(): the partition is no longer ours to deliver
      return;
    }
    let task: DeliveryTask;
    try {
      task = msg.json<DeliveryTask>();
    } catch {
      this.logger.error(`unreadable delivery task on ${msg.subject}; dropped`);
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
      release: () => {
        this.unacked.delete(msg);
        msg.nak();
      },
    };
    // A copy of a task this node already holds is left alone: the held one's ack or hand-back
    // settles it, and acking the copy could swallow a later hand-back.
    if (this.dispatcher.admit(item) !== 'duplicate') this.unacked.add(msg);
  }
}
