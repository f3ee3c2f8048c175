import { Injectable, Logger } from '@nestjs/common';
import { AckPolicy, ConsumerMessages, DeliverPolicy, headers, JsMsg, NatsConnection, nanos } from 'nats';
import { deliveryMsgId, deliverySubject, EVENTS_DEAD_SUBJECT_PREFIX, FANOUT_CONSUMER, InjectNats, STREAM_EVENTS } from '@app/messaging';
import { DeliveryMetrics } from '../delivery-metrics';
import { FanoutService } from './fanout.service';

const BATCH = 500;
const LINGER_MS = 2;

/**
 * Pulls published events from the shared durable consumer `fanout` (a work queue across all nodes),
 * in micro-batches: plan (record + match), publish the delivery tasks pipelined, then ack. A batch
 * that fails is nak'ed and comes back, and re-running it creates no duplicates (Nats-Msg-Id and
 * idempotent inserts).
 */
@Injectable()
export class FanoutConsumer {
  private readonly logger = new Logger(FanoutConsumer.name);
  private messages?: ConsumerMessages;
  private buffer: JsMsg[] = [];
  private processing?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private loop?: Promise<void>;

  constructor(
    @InjectNats() private readonly nc: NatsConnection,
    private readonly fanout: FanoutService,
    private readonly metrics: DeliveryMetrics,
  ) {}

  async start(partitions: number): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    await jsm.consumers
      .add(STREAM_EVENTS, {
        durable_name: FANOUT_CONSUMER,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(30_000),
        max_ack_pending: 5000,
        max_deliver: -1,
      })
      .catch((err) => {
        if (!/already in use|exists/i.test(err.message)) throw err;
      });
    const consumer = await this.nc.jetstream().consumers.get(STREAM_EVENTS, FANOUT_CONSUMER);
    this.messages = await consumer.consume({ max_messages: 2000, expires: 5000 });
    this.loop = (async () => {
      for await (const msg of this.messages!) {
        this.buffer.push(msg);
        if (this.buffer.length >= BATCH) await this.flush(partitions);
        else if (!this.timer) this.timer = setTimeout(() => void this.flush(partitions), LINGER_MS);
      }
    })().catch((err) => this.logger.error(`fan-out consumer stopped: ${err.message}`));
  }

  async stop(): Promise<void> {
    this.messages?.stop();
    await this.loop;
    clearTimeout(this.timer);
    await this.processing;
    for (const m of this.buffer.splice(0)) m.nak();
  }

  /** Processes what is buffered; batches run one at a time. */
  private async flush(partitions: number): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.processing) await this.processing;
    const batch = this.buffer.splice(0, BATCH);
    if (!batch.length) return;
    this.processing = this.process(batch, partitions).finally(() => (this.processing = undefined));
    await this.processing;
    if (this.buffer.length && !this.timer) this.timer = setTimeout(() => void this.flush(partitions), 0);
  }

  private async process(batch: JsMsg[], partitions: number): Promise<void> {
    try {
      const plan = await this.fanout.plan(batch.map((m) => ({ subject: m.subject, data: m.string() })), partitions);
      const js = this.nc.jetstream();
      const pubs: Promise<unknown>[] = plan.tasks.map(({ partition, task }) =>
        js.publish(deliverySubject(partition), JSON.stringify(task), { msgID: deliveryMsgId(task.event_id, task.webhook_id) }),
      );
      plan.rejected.forEach((r, i) => {
        if (!r) return;
        const h = headers();
        h.set('Webhooks-Dead-Reason', r.reason);
        h.set('Webhooks-Original-Subject', batch[i].subject);
        pubs.push(js.publish(`${EVENTS_DEAD_SUBJECT_PREFIX}${r.code}`, batch[i].data, { headers: h, msgID: `dead:${batch[i].info.streamSequence}` }));
        this.metrics.deadLetters.inc({ reason: r.code });
        this.logger.warn(`event on ${batch[i].subject} kept aside on ${EVENTS_DEAD_SUBJECT_PREFIX}${r.code}: ${r.reason}`);
      });
      await Promise.all(pubs);
      for (const m of batch) m.ack();
      this.metrics.fannedOut.inc(batch.length - plan.rejected.filter(Boolean).length);
      this.metrics.tasks.inc(plan.tasks.length);
    } catch (err) {
      this.logger.warn(`fan-out of ${batch.length} events failed, they will be redelivered: ${(err as Error).message}`);
      for (const m of batch) m.nak(2000);
    }
  }
}
