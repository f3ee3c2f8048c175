import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import type { SqlDatabase } from './sql-database';
import { boolArray, intArray, textArray, timestampArray, uuidArray } from './sql-arrays';
import type { AttemptView } from '@app/api-views';

/** One send and the state its delivery moves to; texts already cut to fit their columns. */
export interface AttemptRecord {
  eventId: string;
  webhookId: string;
  accountId: string;
  attempt: number;
  success: boolean;
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
  responseExcerpt: string | null;
  at: Date;
  /**
   * No later than the send started: the claim's moment on the database's clock when there is one,
   * else `at` less the latency on the node's clock. Compared with a redelivery's request time.
   */
  startedAt: Date;
  /** Unique per attempt: a batch written again after a lost commit answer adds nothing. */
  attemptKey: string;
  status: string;
  next: Date | null;
  /** The delivery's last error (null on success). */
  lastError: string | null;
}

/** A state change of a PENDING delivery without a send. */
export interface DeliveryStateChange {
  eventId: string;
  webhookId: string;
  status: string;
  next: Date | null;
  error: string | null;
}

/** Attempts, the moves of their deliveries, and state changes: one statement per batch. */
const RECORD_SQL = `
  with attempt_rows as (
    select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[], $5::bool[], $6::int[], $7::text[], $8::int[], $9::text[], $10::timestamptz[], $11::uuid[], $12::text[], $13::timestamptz[], $14::text[], $21::timestamptz[])
      as t(event_id, webhook_id, account_id, attempt, success, status_code, error, latency_ms, response_excerpt, created_at, attempt_key, status, next, last_error, started_at)
  ), inserted as (
    insert into delivery_attempts (event_id, webhook_id, account_id, attempt, success, status_code, error, latency_ms, response_excerpt, node_id, created_at, attempt_key)
    select event_id, webhook_id, account_id, attempt, success, status_code, error, latency_ms, response_excerpt, $15::text, created_at, attempt_key from attempt_rows
    on conflict (attempt_key) do nothing
  ), attempted as (
    -- d.requeued_at > the attempt's start (see AttemptRecord.startedAt): the delivery was asked for
    -- again (a redeliver) while this attempt was on its way. The request wants a send after it, so
    -- the row stays due now with its new 24-hour window unstarted, whatever this attempt's outcome.
    update deliveries d set
      status = case when d.status = 'SUCCEEDED' then d.status when d.requeued_at > v.started_at then 'PENDING' else v.status end,
      attempts = d.attempts + 1,
      first_attempt_at = case when d.requeued_at > v.started_at then d.first_attempt_at else coalesce(d.first_attempt_at, v.created_at) end,
      last_attempt_at = v.created_at,
      next_attempt_at = case when d.status = 'SUCCEEDED' then null when d.requeued_at > v.started_at then now() else v.next end,
      last_status_code = v.status_code,
      last_error = v.last_error,
      updated_at = now()
    from attempt_rows v
    where d.event_id = v.event_id and d.webhook_id = v.webhook_id
      -- The statement's snapshot does not see its own insert: an attempt found here was recorded by
      -- an earlier run of this batch (its commit answer lost), and its delivery moved on then.
      and not exists (select 1 from delivery_attempts a where a.attempt_key = v.attempt_key)
    returning 1
  ), changed as (
    update deliveries d set
      status = s.status, next_attempt_at = s.next, last_error = coalesce(s.err, d.last_error), updated_at = now()
    from unnest($16::uuid[], $17::uuid[], $18::text[], $19::timestamptz[], $20::text[]) as s(event_id, webhook_id, status, next, err)
    where d.event_id = s.event_id and d.webhook_id = s.webhook_id and d.status = 'PENDING'
    returning 1
  )
  select (select count(*) from attempted) as attempted, (select count(*) from changed) as changed`;

/** The `delivery_attempts` table: every send's outcome, written in batches with its delivery's move. */
export class DeliveryAttemptsRepository {
  constructor(private readonly db: SqlDatabase) {}

  /**
   * One statement, so one round trip and no transaction around it (a named prepared statement): the
   * attempts inserted (a key already present inserts nothing), the deliveries of the attempts inserted
   * just now moved on (a row that already succeeded, after a duplicate send, stays SUCCEEDED), and the
   * state changes of PENDING rows. One statement cannot update a row twice: a delivery with both an
   * attempt and a state change must come in two calls.
   */
  async recordAttemptBatch(attempts: AttemptRecord[], states: DeliveryStateChange[], nodeId: string): Promise<void> {
    await this.db.pool.query({
      name: 'record-delivery-outcomes',
      text: RECORD_SQL,
      values: [
        uuidArray(attempts.map((a) => a.eventId)),
        uuidArray(attempts.map((a) => a.webhookId)),
        uuidArray(attempts.map((a) => a.accountId)),
        intArray(attempts.map((a) => a.attempt)),
        boolArray(attempts.map((a) => a.success)),
        intArray(attempts.map((a) => a.statusCode)),
        textArray(attempts.map((a) => a.error)),
        intArray(attempts.map((a) => a.latencyMs)),
        textArray(attempts.map((a) => a.responseExcerpt)),
        timestampArray(attempts.map((a) => a.at)),
        uuidArray(attempts.map((a) => a.attemptKey)),
        textArray(attempts.map((a) => a.status)),
        timestampArray(attempts.map((a) => a.next)),
        textArray(attempts.map((a) => a.lastError)),
        nodeId,
        uuidArray(states.map((s) => s.eventId)),
        uuidArray(states.map((s) => s.webhookId)),
        textArray(states.map((s) => s.status)),
        timestampArray(states.map((s) => s.next)),
        textArray(states.map((s) => s.error)),
        timestampArray(attempts.map((a) => a.startedAt)),
      ],
    });
  }
}

/** An attempt as the attempt log shows it, its time as the driver gives it on this connection (a timestamp string). */
export type AttemptRow = Omit<AttemptView, 'created_at'> & { created_at: Date | string };

/** The `delivery_attempts` table for the config service's attempt log, on its MikroORM connection. */
@Injectable()
export class DeliveryAttemptsOrmRepository {
  constructor(private readonly em: EntityManager) {}

  /** One page of a webhook's attempts, newest first, before `before` if given. */
  listForWebhook(webhookId: string, accountId: string, limit: number, before?: { createdAt: Date; id: string }): Promise<AttemptRow[]> {
    return this.em.getConnection().execute(
      `select a.id::text as id, a.event_id, e.type as event_type, e.is_test, a.attempt, a.success, a.status_code, a.error, a.latency_ms,
              a.response_excerpt as response_body_excerpt, d.status as delivery_status, a.created_at
       from delivery_attempts a
       join events e on e.id = a.event_id
       left join deliveries d on d.event_id = a.event_id and d.webhook_id = a.webhook_id
       where a.webhook_id = ? and a.account_id = ? ${before ? 'and (a.created_at, a.id) < (?, ?)' : ''}
       order by a.created_at desc, a.id desc limit ?`,
      [webhookId, accountId, ...(before ? [before.createdAt, before.id] : []), limit],
    );
  }
}
