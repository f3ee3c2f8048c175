import { Injectable, Logger } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, headers, JsMsg, NatsConnection, nanos } from 'nats';
import { alreadyExists, deliveryMsgId, deliverySubject, EVENTS_DEAD_SUBJECT_PREFIX, FANOUT_CONSUMER, InjectNats, LoopSession, STREAM_EVENTS, SupervisedLoop } from '@app/messaging';
import { DeliveryMetrics } from '../delivery-metrics';
import { FanoutService } from './fanout.service';
import { TaskPublisher } from './task-publisher';

const BATCH = 500;
const LINGER_MS = 2;
/** Dead-letter copies are cut to this size, so setting aside a huge event can never fail for its size. */
const DEAD_COPY_BYTES = 512 * 1024;

/** A header value made from outside text: one line, printable, bounded. */
function headerValue(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 300);
}

/**
 * Pulls published events from the shared durable consumer `fanout` (a work queue across all nodes),
 * in micro-batches: plan (record + match), publish the delivery tasks pipelined, then ack. A batch
 * that fails (database or NATS unreachable) is nak'ed and comes back, and re-running it creates no
 * duplicates (Nats-Msg-Id and idempotent inserts); an event that cannot be handled goes aside alone.
 */
@Injectable()
export class FanoutConsumer {
  private readonly logger = new Logger(FanoutConsumer.name);
  private readonly loop = new SupervisedLoop('fanout', (s) => this.consume(s));
  private partitions = 0;
  private buffer: JsMsg[] = [];
  private processing?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private readonly publisher: TaskPublisher;

  constructor(
    @InjectNats() private readonly nc: NatsConnection,
    private readonly fanout: FanoutService,
    private readonly metrics: DeliveryMetrics,
  ) {
    this.publisher = new TaskPublisher(nc);
  }

  /** Resolves once the consumer is pulling; it is restarted whenever it ends. */
  start(partitions: number): Promise<void> {
    this.partitions = partitions;
    return this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    clearTimeout(this.timer);
    await this.processing;
    for (const m of this.buffer.splice(0)) m.nak();
    this.publisher.close();
  }

  private async consume(session: LoopSession): Promise<void> {
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
        if (!alreadyExists(err)) throw err;
      });
    const consumer = await this.nc.jetstream().consumers.get(STREAM_EVENTS, FANOUT_CONSUMER);
    const messages = await consumer.consume({ max_messages: 2000, expires: 5000, abort_on_missing_resource: true });
    session.onStop(() => messages.stop());
    session.ready();
    for await (const msg of messages) {
      this.buffer.push(msg);
      if (this.buffer.length >= BATCH) await this.flush();
      else if (!this.timer) this.timer = setTimeout(() => void this.flush(), LINGER_MS);
    }
  }

  /** Processes what is buffered; batches run one at a time. */
  private async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.processing) await this.processing;
    const batch = this.buffer.splice(0, BATCH);
    if (!batch.length) return;
    this.processing = this.process(batch).finally(() => (this.processing = undefined));
    await this.processing;
    if (this.buffer.length && !this.timer) this.timer = setTimeout(() => void this.flush(), 0);
  }

  private async process(batch: JsMsg[]): Promise<void> {
    let plan;
    try {
      plan = await this.fanout.plan(
        batch.map((m) => ({ subject: m.subject, data: m.string() })),
        this.partitions,
      );
    } catch (err) {
      this.logger.warn(`fan-out of ${batch.length} events failed, they will be redelivered: ${(err as Error).message}`);
      for (const m of batch) m.nak(2000);
      return;
    }
    // Each event is acked once all of its own publishes are stored; one that fails comes back alone.
    const stored = this.publisher.publishAll(
      plan.tasks.map(({ partition, task }) => ({ subject: deliverySubject(partition), data: JSON.stringify(task), msgId: deliveryMsgId(task.event_id, task.webhook_id) })),
    );
    const asides = plan.rejected.map((r, i) =>
      r
        ? this.setAside(batch[i], r.code, r.reason).then(
            () => null,
            (err: Error) => err,
          )
        : Promise.resolve(null),
    );
    const outcomes: (Error | null)[] = await Promise.all(asides);
    (await stored).forEach((err, t) => {
      const source = plan.tasks[t].source;
      if (err && !outcomes[source]) outcomes[source] = err;
    });
    let failed = 0;
    outcomes.forEach((err, i) => {
      if (!err) return batch[i].ack();
      failed++;
      batch[i].nak(2000);
      if (failed === 1) this.logger.warn(`publishing the fan-out of an event failed, it will be redelivered: ${err.message}`);
    });
    this.metrics.fannedOut.inc(batch.length - failed - plan.rejected.filter(Boolean).length);
    this.metrics.tasks.inc(plan.tasks.length);
  }

  /** Publishes an event to `events-dead.<code>` with the reason; a copy too big to carry is cut, with its size in a header. */
  private setAside(msg: JsMsg, code: string, reason: string): Promise<unknown> {
    const h = headers();
    h.set('Webhooks-Dead-Reason', headerValue(reason));
    h.set('Webhooks-Original-Subject', headerValue(msg.subject));
    let data = msg.data;
    if (data.length > DEAD_COPY_BYTES) {
      h.set('Webhooks-Dead-Truncated', String(data.length));
      data = data.subarray(0, DEAD_COPY_BYTES);
    }
    this.metrics.deadLetters.inc({ reason: code });
    this.logger.warn({
      msg: `event kept aside on ${EVENTS_DEAD_SUBJECT_PREFIX}${code}: ${headerValue(reason)}`,
      subject: headerValue(msg.subject),
      stream_sequence: msg.info.streamSequence,
    });
    return this.nc.jetstream().publish(`${EVENTS_DEAD_SUBJECT_PREFIX}${code}`, data, { headers: h, msgID: `dead:${msg.info.streamSequence}` });
  }
}
