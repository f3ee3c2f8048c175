import { Injectable, Logger } from '@nestjs/common';
import { DeliverPolicy, JsMsg, KV, NatsConnection } from 'nats';
import { AppConfig } from '@app/config';
import { FANOUT_CONSUMER, InjectNats, KickedLoop, openClusterKv, STREAM_EVENTS } from '@app/messaging';
import { DeliveryMetrics } from '../delivery-metrics';
import { auditVerdict, AuditWindow, auditWindow } from './audit-window';
import { EventFanout, StoredEvent } from './event-fanout';
import { FanoutService } from './fanout.service';

/** Key in the cluster bucket: the last stream sequence audited. */
const CURSOR_KEY = 'fanout-audit';
const CHUNK = 500;
/** Messages read per pass at most; a pass that stops there kicks the next one at once. */
const MAX_PER_PASS = 20_000;
/** Past a stuck ack floor, a message this old that is not recorded is no longer on its way. */
const STALL_AGE_MS = 60_000;
/** Never re-planned: retention (1 day at the least) may have pruned the recorded event. */
const MAX_AGE_MS = 12 * 3600 * 1000;
/**
 * The first pass ever starts this far back (an upgraded cluster has no cursor yet): a minute short
 * of the age limit, so the first messages it reads are not reported as too old by the time it does.
 */
const FIRST_LOOK_BACK_MS = MAX_AGE_MS - 60_000;

/**
 * The safety net under fan-out: follows the events stream behind the `fanout` consumer and fans
 * out again every event that was taken off it without being recorded. A JetStream consumer's state
 * can move past messages it never delivered (seen after a NATS server was partitioned from its
 * cluster), and an event skipped there is lost to every webhook; here it comes back within a pass.
 * Fan-out is idempotent, so auditing an event the consumer is also handling costs only work.
 * One node audits (the owner of partition 0); the cursor lives in the cluster bucket, so the next
 * owner goes on from it.
 */
@Injectable()
export class FanoutAudit {
  private readonly logger = new Logger(FanoutAudit.name);
  private readonly loop: KickedLoop;
  private cursor: number | undefined;
  private previousFloor: number | undefined;
  private kv?: KV;
  private partitions = 0;
  private isAuditor: () => boolean = () => false;

  constructor(
    @InjectNats() private readonly nc: NatsConnection,
    private readonly fanout: FanoutService,
    private readonly events: EventFanout,
    private readonly metrics: DeliveryMetrics,
    private readonly config: AppConfig,
  ) {
    this.loop = new KickedLoop(
      () => this.pass(),
      config.fanoutAuditIntervalMs,
      (err) => this.logger.warn(`fan-out audit pass failed: ${err.message}`),
      'fanout-audit',
    );
  }

  start(partitions: number, isAuditor: () => boolean): void {
    this.partitions = partitions;
    this.isAuditor = isAuditor;
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async pass(): Promise<void> {
    if (!this.isAuditor()) {
      // Another node audits; its cursor is the one to go on from when this node is next.
      this.cursor = this.previousFloor = undefined;
      return;
    }
    const jsm = await this.nc.jetstreamManager();
    const [stream, consumer] = await Promise.all([jsm.streams.info(STREAM_EVENTS), jsm.consumers.info(STREAM_EVENTS, FANOUT_CONSUMER)]);
    this.kv ??= await openClusterKv(this.nc.jetstream(), this.config.streamReplicas);
    if (this.cursor === undefined) {
      const stored = await this.kv.get(CURSOR_KEY);
      if (stored?.operation === 'PUT' && Number.isSafeInteger(Number(stored.string()))) this.cursor = Number(stored.string());
    }
    const window = auditWindow(this.cursor, { firstSeq: stream.state.first_seq, lastSeq: stream.state.last_seq, ackFloor: consumer.ack_floor.stream_seq }, this.previousFloor);
    this.previousFloor = consumer.ack_floor.stream_seq;
    const before = this.cursor;
    const { read, full } = await this.readWindow(window);
    if (this.cursor !== before) await this.kv.put(CURSOR_KEY, String(this.cursor));
    if (full && read) this.loop.kick();
  }

  /** Reads the window in chunks and fans out what was missed; the cursor ends past the last chunk audited in full. */
  private async readWindow(window: AuditWindow): Promise<{ read: number; full: boolean }> {
    if (window.after !== undefined && window.after >= window.upTo && !window.stalled) {
      this.cursor = window.after;
      return { read: 0, full: false };
    }
    const reader = await this.nc
      .jetstream()
      .consumers.get(
        STREAM_EVENTS,
        window.after === undefined
          ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(Date.now() - FIRST_LOOK_BACK_MS).toISOString() }
          : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: window.after + 1 },
      );
    let read = 0;
    let lastAudited = window.after;
    try {
      while (read < MAX_PER_PASS) {
        const chunk: JsMsg[] = [];
        for await (const m of await reader.fetch({ max_messages: CHUNK, expires: 1000 })) chunk.push(m);
        if (!chunk.length) break;
        read += chunk.length;
        const now = Date.now();
        const audited: StoredEvent[] = [];
        let stopAt: number | undefined;
        let tooOld = 0;
        for (const m of chunk) {
          const verdict = auditVerdict(m.seq, now - m.info.timestampNanos / 1e6, window, { stallAgeMs: STALL_AGE_MS, maxAgeMs: MAX_AGE_MS });
          if (verdict === 'stop') {
            stopAt = m.seq;
            break;
          }
          if (verdict === 'too-old') tooOld++;
          else audited.push({ subject: m.subject, data: m.data, seq: m.seq });
        }
        if (tooOld)
          this.logger.error(`fan-out audit: ${tooOld} events older than ${MAX_AGE_MS / 3600_000} h were not audited (stream sequences up to ${chunk[chunk.length - 1].seq})`);
        const failedAt = await this.fanOutMissed(audited);
        if (failedAt !== undefined) {
          lastAudited = failedAt - 1;
          return { read, full: false };
        }
        lastAudited = stopAt !== undefined ? stopAt - 1 : chunk[chunk.length - 1].seq;
        if (stopAt !== undefined || (!window.stalled && lastAudited >= window.upTo)) return { read, full: false };
      }
      return { read, full: read >= MAX_PER_PASS };
    } finally {
      if (lastAudited !== undefined) this.cursor = lastAudited;
    }
  }

  /** Fans out the events of the chunk that were never recorded; the sequence of the first that failed, if any. */
  private async fanOutMissed(chunk: StoredEvent[]): Promise<number | undefined> {
    if (!chunk.length) return undefined;
    const decoder = new TextDecoder();
    const missing = await this.fanout.unrecorded(chunk.map((m) => ({ subject: m.subject, data: decoder.decode(m.data) })));
    const missed = chunk.filter((_, i) => missing[i]);
    if (!missed.length) return undefined;
    const { errors, accepted } = await this.events.run(missed, this.partitions);
    const failed = errors.findIndex(Boolean);
    const done = failed === -1 ? missed.length : failed;
    // An event that goes aside is never recorded, so the audit cannot tell one the consumer set aside
    // from one it skipped: setting it aside again stores nothing new (its copy's id, within the dead
    // stream's duplicate window) and is no recovery. Only events recorded now count.
    const recovered = missed.slice(0, done).filter((_, i) => accepted[i]);
    this.metrics.recovered.inc(recovered.length);
    if (recovered.length)
      this.logger.error(
        `fan-out audit: ${recovered.length} events (stream sequences ${recovered[0].seq}..${recovered[recovered.length - 1].seq}) had left the events stream without being fanned out; fanned out now`,
      );
    if (failed !== -1) this.logger.warn(`fan-out audit: fanning out stream sequence ${missed[failed].seq} failed (${errors[failed]!.message}); retried next pass`);
    return failed === -1 ? undefined : missed[failed].seq;
  }
}
