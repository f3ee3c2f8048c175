import { Injectable, Logger } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, JsMsg, NatsConnection, nanos } from 'nats';
import { alreadyExists, FANOUT_CONSUMER, InjectNats, LoopSession, STREAM_EVENTS, SupervisedLoop } from '@app/messaging';
import { EventFanout } from './event-fanout';

const BATCH = 500;
/**
 * Pulls published events from the shared durable consumer `fanout` (a work queue across all nodes),
 * in micro-batches: fan each batch out (EventFanout), then ack. A batch is what arrived while the
 * one before was being fanned out (and what one read of the socket brought): no timer waits for a
 * batch to fill, so a lone event goes at once and a busy stream still makes big batches. A batch
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
  private scheduled?: NodeJS.Immediate;

  constructor(
    @InjectNats() private readonly nc: NatsConnection,
    private readonly fanout: EventFanout,
  ) {}

  /** Resolves once the consumer is pulling; it is restarted whenever it ends. */
  start(partitions: number): Promise<void> {
    this.partitions = partitions;
    return this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    clearImmediate(this.scheduled);
    await this.processing;
    for (const m of this.buffer.splice(0)) m.nak();
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
      else this.schedule();
    }
  }

  /** A flush once this turn of the event loop has handed over what one read brought. */
  private schedule(): void {
    this.scheduled ??= setImmediate(() => void this.flush());
  }

  /** Processes what is buffered; batches run one at a time. */
  private async flush(): Promise<void> {
    clearImmediate(this.scheduled);
    this.scheduled = undefined;
    while (this.processing) await this.processing;
    const batch = this.buffer.splice(0, BATCH);
    if (!batch.length) return;
    this.processing = this.process(batch).finally(() => (this.processing = undefined));
    await this.processing;
    if (this.buffer.length) this.schedule();
  }

  private async process(batch: JsMsg[]): Promise<void> {
    let outcomes: (Error | null)[];
    try {
      ({ errors: outcomes } = await this.fanout.run(
        batch.map((m) => ({ subject: m.subject, data: m.data, seq: m.info.streamSequence })),
        this.partitions,
      ));
    } catch (err) {
      this.logger.warn(`fan-out of ${batch.length} events failed, they will be redelivered: ${(err as Error).message}`);
      for (const m of batch) m.nak(2000);
      return;
    }
    let failed = 0;
    outcomes.forEach((err, i) => {
      if (!err) return batch[i].ack();
      failed++;
      batch[i].nak(2000);
      if (failed === 1) this.logger.warn(`publishing the fan-out of an event failed, it will be redelivered: ${err.message}`);
    });
  }
}
