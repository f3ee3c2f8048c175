import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { storableText } from '@app/domain';
import { isDependencyUnavailable } from '@app/http-common';
import { Database } from '../database';
import { itemKey, type AttemptOutcome, type DeliveryItem } from './delivery-item';
import { NodeIdentity } from '../node-identity';
import type { DeliveryStatus } from './attempt-decision';

interface AttemptOp {
  kind: 'attempt';
  /** Written with the attempt: a batch written again after a lost commit answer adds nothing. */
  key: string;
  item: DeliveryItem;
  outcome: AttemptOutcome;
  at: Date;
  status: DeliveryStatus;
  next: Date | null;
  done: () => void;
}
interface StateOp {
  kind: 'state';
  item: DeliveryItem;
  status: DeliveryStatus;
  next: Date | null;
  error: string | null;
  done: () => void;
}
type Op = AttemptOp | StateOp;

/** Attempts, the moves of their deliveries, and state changes: one statement per batch. */
const RECORD_SQL = `
  with attempt_rows as (
    select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[], $5::bool[], $6::int[], $7::text[], $8::int[], $9::text[], $10::timestamptz[], $11::uuid[], $12::text[], $13::timestamptz[], $14::text[])
      as t(event_id, webhook_id, account_id, attempt, success, status_code, error, latency_ms, response_excerpt, created_at, attempt_key, status, next, last_error)
  ), inserted as (
    insert into delivery_attempts (event_id, webhook_id, account_id, attempt, success, status_code, error, latency_ms, response_excerpt, node_id, created_at, attempt_key)
    select event_id, webhook_id, account_id, attempt, success, status_code, error, latency_ms, response_excerpt, $15::text, created_at, attempt_key from attempt_rows
    on conflict (attempt_key) do nothing
    returning attempt_key
  ), attempted as (
    update deliveries d set
      status = case when d.status = 'SUCCEEDED' then d.status else v.status end,
      attempts = d.attempts + 1,
      first_attempt_at = coalesce(d.first_attempt_at, v.created_at),
      last_attempt_at = v.created_at,
      next_attempt_at = case when d.status = 'SUCCEEDED' then null else v.next end,
      last_status_code = v.status_code,
      last_error = v.last_error,
      updated_at = now()
    from attempt_rows v join inserted i on i.attempt_key = v.attempt_key
    where d.event_id = v.event_id and d.webhook_id = v.webhook_id
    returning 1
  ), changed as (
    update deliveries d set
      status = s.status, next_attempt_at = s.next, last_error = coalesce(s.err, d.last_error), updated_at = now()
    from unnest($16::uuid[], $17::uuid[], $18::text[], $19::timestamptz[], $20::text[]) as s(event_id, webhook_id, status, next, err)
    where d.event_id = s.event_id and d.webhook_id = s.webhook_id and d.status = 'PENDING'
    returning 1
  )
  select (select count(*) from attempted) as attempted, (select count(*) from changed) as changed`;

const FLUSH_EVERY_MS = 25;
const MAX_BATCH = 1000;
const EXCERPT_CHARS = 1024;
const ERROR_CHARS = 1000;
const RETRY_MS = 1000;

/** A number from outside made fit for an int4 column. */
function clampInt(n: number): number {
  return Number.isFinite(n) ? Math.max(-2147483648, Math.min(2147483647, Math.round(n))) : 0;
}

/** The op with every text that came from outside replaced by why it could not be stored. */
function withoutOutsideText(op: Op, cause: Error): Op {
  const why = storableText(`outcome could not be recorded as received: ${cause.message}`, ERROR_CHARS);
  return op.kind === 'attempt' ? { ...op, outcome: { ...op.outcome, error: why, responseExcerpt: undefined } } : { ...op, error: why };
}

/**
 * Writes attempts and delivery state to Postgres in batches (one statement per batch, never one
 * insert per request). Each call resolves once its row is committed, so callers ack NATS only
 * after the outcome is durable.
 */
@Injectable()
export class DeliveryRecorder implements OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryRecorder.name);
  private ops: Op[] = [];
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    private readonly db: Database,
    private readonly node: NodeIdentity,
  ) {}

  /** One send and its consequence: SUCCEEDED, PENDING with a next attempt time, or FAILED. */
  attempt(item: DeliveryItem, outcome: AttemptOutcome, status: DeliveryStatus, next: Date | null): Promise<void> {
    return new Promise((done) => this.push({ kind: 'attempt', key: randomUUID(), item, outcome, at: new Date(), status, next, done }));
  }

  /** A state change without a send: deferred to the due-time queue, or failed for good. */
  state(item: DeliveryItem, status: DeliveryStatus, next: Date | null, error: string | null = null): Promise<void> {
    return new Promise((done) => this.push({ kind: 'state', item, status, next, error, done }));
  }

  private push(op: Op): void {
    this.ops.push(op);
    if (this.ops.length >= MAX_BATCH) this.flushSoon(0);
    else this.flushSoon(FLUSH_EVERY_MS);
  }

  private flushSoon(delay: number): void {
    if (this.flushing) return; // the running flush reschedules itself
    if (this.timer && delay > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
        if (this.ops.length) this.flushSoon(0);
      });
    }, delay);
  }

  private async flush(): Promise<void> {
    const batch = this.ops.splice(0, MAX_BATCH);
    if (!batch.length) return;
    await this.writeIsolating(batch);
    for (const op of batch) op.done();
  }

  /**
   * Writes a batch. While the database is unreachable the same batch is tried again (nothing moves
   * on until outcomes are durable). Any other failure splits the batch in halves, down to the one
   * row that cannot be stored, which is written once more with its outside texts replaced, so one
   * consumer's bytes can never hold back anybody else's outcomes.
   */
  private async writeIsolating(batch: Op[], stripped = false): Promise<void> {
    for (let tries = 1; ; tries++) {
      try {
        return await this.write(batch);
      } catch (err) {
        if (!isDependencyUnavailable(err) && (await this.db.reachable())) {
          if (batch.length > 1) {
            const half = Math.ceil(batch.length / 2);
            await this.writeIsolating(batch.slice(0, half), stripped);
            return this.writeIsolating(batch.slice(half), stripped);
          }
          const op = batch[0];
          if (!stripped) return this.writeIsolating([withoutOutsideText(op, err as Error)], true);
          // Cannot happen with the texts replaced; logged, and the delivery row is left to the reconciler.
          this.logger.error({ msg: `delivery could not be recorded: ${(err as Error).message}`, event_id: op.item.task.event_id, webhook_id: op.item.task.webhook_id });
          return;
        }
        if (tries === 1 || tries % 30 === 0) this.logger.warn(`recording ${batch.length} deliveries failed, retrying: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  /**
   * One statement, so one round trip and no transaction around it: the attempts inserted (a key
   * already present inserts nothing), the deliveries of the attempts inserted just now moved on (a
   * row that already succeeded, after a duplicate send, stays SUCCEEDED), and the state changes. A
   * delivery with both an attempt and a state change in one batch gets two statements, in that order,
   * since one statement cannot update a row twice.
   */
  private async write(batch: Op[]): Promise<void> {
    const attempts = batch.filter((o): o is AttemptOp => o.kind === 'attempt');
    const states = batch.filter((o): o is StateOp => o.kind === 'state');
    const attempted = new Set(attempts.map((o) => itemKey(o.item.task)));
    if (attempts.length && states.some((o) => attempted.has(itemKey(o.item.task)))) {
      await this.writeOps(attempts, []);
      return this.writeOps([], states);
    }
    return this.writeOps(attempts, states);
  }

  private async writeOps(attempts: AttemptOp[], states: StateOp[]): Promise<void> {
    await this.db.pool.query({
      name: 'record-delivery-outcomes',
      text: RECORD_SQL,
      values: [
        attempts.map((o) => o.item.task.event_id),
        attempts.map((o) => o.item.task.webhook_id),
        attempts.map((o) => o.item.task.account_id),
        attempts.map((o) => o.item.attemptsBefore + 1),
        attempts.map((o) => o.outcome.success),
        attempts.map((o) => (o.outcome.statusCode === undefined ? null : clampInt(o.outcome.statusCode))),
        attempts.map((o) => (o.outcome.error === undefined ? null : storableText(o.outcome.error, ERROR_CHARS))),
        attempts.map((o) => clampInt(o.outcome.latencyMs)),
        attempts.map((o) => (o.outcome.responseExcerpt === undefined ? null : storableText(o.outcome.responseExcerpt, EXCERPT_CHARS))),
        attempts.map((o) => o.at),
        attempts.map((o) => o.key),
        attempts.map((o) => o.status),
        attempts.map((o) => o.next),
        attempts.map((o) => (o.outcome.success ? null : storableText(o.outcome.error ?? `HTTP ${o.outcome.statusCode}`, ERROR_CHARS))),
        this.node.id,
        states.map((o) => o.item.task.event_id),
        states.map((o) => o.item.task.webhook_id),
        states.map((o) => o.status),
        states.map((o) => o.next),
        states.map((o) => (o.error === null ? null : storableText(o.error, ERROR_CHARS))),
      ],
    });
  }

  /** Writes everything still queued. */
  async flushAll(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    while (this.ops.length) await this.flush();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flushAll();
  }
}
