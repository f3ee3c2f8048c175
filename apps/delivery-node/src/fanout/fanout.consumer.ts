import { Injectable, Logger } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, JsMsg, NatsConnection, nanos } from 'nats';
import { alreadyExists, FANOUT_CONSUMER, InjectNats, LoopSession, settleMessage, STREAM_EVENTS, SupervisedLoop } from '@app/messaging';
import { BatchDrain } from './batch-drain';
import { EventFanout } from './event-fanout';

const BATCH = 500;
/**
 * Pulls published events from the shared durable consumer `fanout` (a work queue across all nodes),
 * in micro-batches (BatchDrain: what arrived while the batch before was fanned out, up to BATCH):
 * fan each batch out (EventFanout), then ack. A batch
 * that fails (database or NATS unreachable) is nak'ed and comes back, and re-running it creates no
 * duplicates (Nats-Msg-Id and idempotent inserts); an event that cannot be handled goes aside alone.
 */
@Injectable()
export class FanoutConsumer {
  private readonly logger = new Logger(FanoutConsumer.name);
  private readonly loop = new SupervisedLoop('fanout', (s) => this.consume(s));
  private partitions = 0;
  private readonly batches = new BatchDrain<JsMsg>(
    BATCH,
    (batch) => this.process(batch),
    (err) => this.logger.error(`fan-out loop failed: ${err.message}`),
  );

  constructor(
    @InjectNats() private readonly nc: NatsConnection,
    private readonly fanout: EventFanout,
  ) {}

  /** Resolves once the consumer is pulling; it is restarted whenever it ends. */
  start(partitions: number): Promise<void> {
    this.partitions = partitions;
    this.batches.resume();
    return this.loop.start();
  }

  /** Stops pulling, lets the batch in progress finish (no new one starts), and hands back the rest. */
  async stop(): Promise<void> {
    this.batches.halt();
    await this.loop.stop();
    for (const m of await this.batches.leftovers()) settleMessage(m, 'nak');
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
      const full = this.batches.push(msg);
      if (full) await full;
    }
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
      for (const m of batch) settleMessage(m, 'nak', 2000);
      return;
    }
    let failed = 0;
    outcomes.forEach((err, i) => {
      if (!err) return settleMessage(batch[i], 'ack');
      failed++;
      settleMessage(batch[i], 'nak', 2000);
      if (failed === 1) this.logger.warn(`publishing the fan-out of an event failed, it will be redelivered: ${err.message}`);
    });
  }
}
