import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { storableText } from '@app/domain';
import { isDependencyUnavailable } from '@app/http-common';
import { DeliveryAttemptsRepository } from '@app/persistence';
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
  /** Ops of the batches being written now (flushAll may write one beside the timer's). */
  private writing = 0;

  constructor(
    private readonly db: Database,
    private readonly attemptsRepository: DeliveryAttemptsRepository,
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
    this.writing += batch.length;
    try {
      await this.writeIsolating(batch);
    } finally {
      this.writing -= batch.length;
    }
    for (const op of batch) op.done();
  }

  /** Outcomes and state changes not written yet (the batch being written included). */
  get backlog(): number {
    return this.ops.length + this.writing;
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
   * One statement per batch (`recordAttemptBatch`). A delivery with both an attempt and a state
   * change in one batch gets two statements, in that order, since one statement cannot update a row twice.
   */
  private async write(batch: Op[]): Promise<void> {
    const attempts = batch.filter((o): o is AttemptOp => o.kind === 'attempt');
    const states = batch.filter((o): o is StateOp => o.kind === 'state');
    const attempted = attempts.length && states.length ? new Set(attempts.map((o) => itemKey(o.item.task))) : undefined;
    if (attempted && states.some((o) => attempted.has(itemKey(o.item.task)))) {
      await this.writeOps(attempts, []);
      return this.writeOps([], states);
    }
    return this.writeOps(attempts, states);
  }

  private async writeOps(attempts: AttemptOp[], states: StateOp[]): Promise<void> {
    await this.attemptsRepository.recordAttemptBatch(
      attempts.map((o) => ({
        eventId: o.item.task.event_id,
        webhookId: o.item.task.webhook_id,
        accountId: o.item.task.account_id,
        attempt: o.item.attemptsBefore + 1,
        success: o.outcome.success,
        statusCode: o.outcome.statusCode === undefined ? null : clampInt(o.outcome.statusCode),
        error: o.outcome.error === undefined ? null : storableText(o.outcome.error, ERROR_CHARS),
        latencyMs: clampInt(o.outcome.latencyMs),
        responseExcerpt: o.outcome.responseExcerpt === undefined ? null : storableText(o.outcome.responseExcerpt, EXCERPT_CHARS),
        at: o.at,
        startedAt: new Date(o.item.takenAt ?? o.at.getTime() - o.outcome.latencyMs),
        attemptKey: o.key,
        status: o.status,
        next: o.next,
        lastError: o.outcome.success ? null : storableText(o.outcome.error ?? `HTTP ${o.outcome.statusCode}`, ERROR_CHARS),
      })),
      states.map((o) => ({
        eventId: o.item.task.event_id,
        webhookId: o.item.task.webhook_id,
        status: o.status,
        next: o.next,
        error: o.error === null ? null : storableText(o.error, ERROR_CHARS),
      })),
      this.node.id,
    );
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
