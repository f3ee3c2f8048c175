import { Injectable, Logger } from '@nestjs/common';
import { headers, NatsConnection } from 'nats';
import { AppConfig } from '@app/config';
import { EVENTS_DEAD_SUBJECT_PREFIX, InjectNats } from '@app/messaging';
import { DeliveryMetrics } from '../delivery-metrics';
import { DeliveryDispatcher } from '../delivery/delivery-dispatcher';
import { PartitionConsumers } from '../delivery/partition-consumers';
import { FanoutService } from './fanout.service';
import { taskMessages } from './task-messages';
import { TaskPublisher } from './task-publisher';
import { TaskRouter } from './task-router';

/**
 * Deliveries held in this node's lanes (queued or in flight) past which fan-out claims no more: the
 * rest go through the stream, whose partition consumers take them at their pace. A burst of 20,000
 * claimed at once (the bench) overran the sends in half the runs: with every lane full, sends were
 * started faster than the node could answer them, the account pools opened thousands of new TLS
 * connections and throughput fell to 1,400-3,000/s. A node keeping up holds a few dozen.
 */
export const CLAIM_HEADROOM = 256;

/** Dead-letter copies are cut to this size, so setting aside a huge event can never fail for its size. */
const DEAD_COPY_BYTES = 512 * 1024;

/** An event as the events stream holds it. */
export interface StoredEvent {
  subject: string;
  data: Uint8Array;
  /** Stream sequence: names the event's dead-letter copy, so setting it aside twice stores it once. */
  seq: number;
}

/** A header value made from outside text: one line, printable, bounded. */
function headerValue(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 300);
}

/**
 * Fans a batch of stored events out: plan (record + match), hand the tasks of partitions consumed
 * here to their lanes, publish the others pipelined (a message per partition, see taskMessages),
 * set aside what cannot be handled. Re-running it for the
 * same events sends nothing twice (idempotent inserts, `Nats-Msg-Id` on every message and dead-letter
 * copy, and the deliveries of events recorded before marked for a recheck by their owner), which is
 * what lets both the fan-out consumer and the fan-out audit use it.
 */
@Injectable()
export class EventFanout {
  private readonly logger = new Logger(EventFanout.name);
  private readonly publisher: TaskPublisher;
  /** Off: every delivery goes through the stream (see DELIVERY_FANOUT_CLAIMS). */
  private readonly claims: boolean;

  constructor(
    @InjectNats() private readonly nc: NatsConnection,
    private readonly fanout: FanoutService,
    private readonly metrics: DeliveryMetrics,
    private readonly consumers: PartitionConsumers,
    private readonly dispatcher: DeliveryDispatcher,
    private readonly router: TaskRouter,
    config: AppConfig,
  ) {
    this.publisher = new TaskPublisher(nc);
    this.claims = config.fanoutClaims;
  }

  /**
   * Index-aligned with the batch: `errors[i]` null once the event is recorded with its tasks published
   * (or set aside), else why not; `accepted[i]` whether it was recorded (not set aside). Rejects when
   * the batch could not be planned at all (database unreachable).
   */
  async run(batch: StoredEvent[], partitions: number): Promise<{ errors: (Error | null)[]; accepted: boolean[] }> {
    const decoder = new TextDecoder();
    // Claims while this node keeps up; past that the stream holds the rest and the partition
    // consumers take it at their pace (a burst taken into the lanes at once overruns the sends).
    let room = CLAIM_HEADROOM - this.dispatcher.heldCount;
    const planning = this.metrics.fanoutPlan.startTimer();
    const plan = await this.fanout.plan(
      batch.map((m) => ({ subject: m.subject, data: decoder.decode(m.data) })),
      partitions,
      (p) => this.claims && this.consumers.consuming(p) && room-- > 0,
    );
    planning();
    const published = plan.tasks.filter((t) => !t.claimed);
    for (const t of plan.tasks) if (t.claimed) this.consumers.takeClaimed(t.partition, t.task);
    // Each event is done once every message carrying one of its deliveries is stored; an event
    // with one that failed comes back alone (and its deliveries are then rechecked by their owner).
    const messages = taskMessages(published, (p) => this.router.subject(p));
    const stored = this.publisher.publishAll(messages);
    const asides = plan.rejected.map((r, i) =>
      r
        ? this.setAside(batch[i], r.code, r.reason).then(
            () => null,
            (err: Error) => err,
          )
        : Promise.resolve(null),
    );
    const outcomes: (Error | null)[] = await Promise.all(asides);
    (await stored).forEach((err, m) => {
      if (!err) return;
      for (const t of messages[m].members) {
        const source = published[t].source;
        outcomes[source] ??= err;
      }
    });
    const failed = outcomes.filter(Boolean).length;
    this.metrics.fannedOut.inc(batch.length - failed - plan.rejected.filter(Boolean).length);
    this.metrics.tasks.inc(published.length);
    this.metrics.claimedTasks.inc(plan.tasks.length - published.length);
    return { errors: outcomes, accepted: plan.rejected.map((r) => !r) };
  }

  close(): void {
    this.publisher.close();
  }

  /** Publishes an event to `events-dead.<code>` with the reason; a copy too big to carry is cut, with its size in a header. */
  private setAside(msg: StoredEvent, code: string, reason: string): Promise<unknown> {
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
      stream_sequence: msg.seq,
    });
    return this.nc.jetstream().publish(`${EVENTS_DEAD_SUBJECT_PREFIX}${code}`, data, { headers: h, msgID: `dead:${msg.seq}` });
  }
}
