import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import type { ValidEvent } from '@app/domain';
import { DeliveriesRepository, NewDelivery } from './deliveries.repository';
import type { SqlDatabase } from './sql-database';
import { intArray, uuidArray } from './sql-arrays';

/**
 * One statement (see recordEventsWithDeliveries). `prior` reads the statement's snapshot, so it
 * holds the events recorded before it, never the ones `ins` adds. An id given twice under two
 * accounts in one batch is foreign for both copies (the first copy's row stays, without deliveries).
 */
const RECORD_EVENTS_SQL = `
  with input as (
    select * from jsonb_to_recordset($1::jsonb) as t(id uuid, account_id uuid, type text, object_type text, object jsonb, created_at timestamptz)
  ), ins as (
    insert into events (id, account_id, type, object_type, object, is_test, created_at)
    select id, account_id, type, object_type, object, false, created_at from input
    on conflict (id) do nothing
    returning id, account_id
  ), prior as (
    select id, account_id from events where id in (select id from input)
  ), owner as (
    select id, account_id, true as fresh from ins
    union all
    select id, account_id, false from prior
  ), foreign_ids as (
    select distinct i.id from input i join owner o on o.id = i.id where o.account_id <> i.account_id
  ), written as (
    insert into deliveries (event_id, webhook_id, account_id, partition, next_attempt_at)
    select d.event_id, d.webhook_id, d.account_id, d.partition, case when d.claim is not null and o.fresh then now() + make_interval(secs => d.claim) end
    from unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::int[], $6::int[]) as d(event_id, webhook_id, account_id, partition, claim)
    join owner o on o.id = d.event_id and o.account_id = d.account_id
    where d.event_id not in (select id from foreign_ids)
    on conflict do nothing
  )
  select o.id, o.fresh, o.id in (select id from foreign_ids) as foreign, (extract(epoch from now()) * 1000)::float8 as recorded_ms from owner o`;

/** The `events` table: every accepted published event, for the events API and the deliveries' tasks. */
export class EventsRepository {
  constructor(
    private readonly db: SqlDatabase,
    private readonly deliveries: DeliveriesRepository,
  ) {}

  /**
   * Inserts the events not recorded yet (a re-run adds nothing) and the deliveries of every event
   * recorded under its own account, in one statement: one round trip, no transaction around it.
   * `foreign`: the ids of the events whose id is already recorded for another account: those events
   * and their deliveries are not written, never mixed with the other account's. `repeated`: the
   * events of this account that were recorded before this call (fanned out again: their deliveries
   * may have been sent already). A delivery with `claimSeconds` is written with that due time (a
   * claim) when its event is new here; a repeated event's deliveries are never claimed (they go out
   * as copies to recheck, which send only unclaimed rows), and a row that was there keeps its state.
   *
   * The statement's snapshot cannot see an event that a concurrent fan-out of the same id committed
   * while this one waited on its conflict: such an id comes back without an owner, and a second
   * statement (a fresh snapshot) settles it, as repeated or foreign.
   *
   * `recordedAt`: the database's clock (ms since the epoch) as the statement began, which is the
   * `created_at` of every delivery it wrote (undefined when it wrote none).
   */
  async recordEventsWithDeliveries(events: ValidEvent[], deliveries: NewDelivery[]): Promise<{ foreign: Set<string>; repeated: Set<string>; recordedAt?: number }> {
    const foreign = new Set<string>();
    const repeated = new Set<string>();
    if (!events.length) return { foreign, repeated };
    const owners = await this.db.pool.query<{ id: string; fresh: boolean; foreign: boolean; recorded_ms: number }>({
      name: 'record-events-with-deliveries',
      text: RECORD_EVENTS_SQL,
      values: [
        JSON.stringify(events.map((e) => ({ id: e.id, account_id: e.account_id, type: e.type, object_type: e.object_type, object: e.object, created_at: e.time }))),
        uuidArray(deliveries.map((d) => d.eventId)),
        uuidArray(deliveries.map((d) => d.webhookId)),
        uuidArray(deliveries.map((d) => d.accountId)),
        intArray(deliveries.map((d) => d.partition)),
        intArray(deliveries.map((d) => d.claimSeconds ?? null)),
      ],
    });
    const settled = new Set<string>();
    for (const r of owners.rows) {
      settled.add(r.id);
      if (r.foreign) foreign.add(r.id);
      else if (!r.fresh) repeated.add(r.id);
    }
    const unsettled = events.filter((e) => !settled.has(e.id));
    if (unsettled.length) await this.settleConcurrent(unsettled, deliveries, foreign, repeated);
    const recordedAt = owners.rows.length ? Number(owners.rows[0].recorded_ms) : undefined;
    return { foreign, repeated, ...(recordedAt !== undefined ? { recordedAt } : {}) };
  }

  /** Events another fan-out committed meanwhile: recorded before (their deliveries written now) or foreign. */
  private async settleConcurrent(events: ValidEvent[], deliveries: NewDelivery[], foreign: Set<string>, repeated: Set<string>): Promise<void> {
    const rows = await this.db.query<{ id: string; account_id: string }>('select id, account_id from events where id = any($1::uuid[])', [events.map((e) => e.id)]);
    const ownerOf = new Map(rows.map((r) => [r.id, r.account_id]));
    for (const e of events) if (ownerOf.get(e.id) !== e.account_id) foreign.add(e.id); // (no row at all cannot be: the insert met it)
    const before = new Set(events.filter((e) => !foreign.has(e.id)).map((e) => e.id));
    for (const id of before) repeated.add(id);
    // Unclaimed: these events are repeated, so their tasks go out as copies to recheck (see FanoutService).
    const kept = deliveries.filter((d) => before.has(d.eventId) && d.accountId === ownerOf.get(d.eventId));
    if (kept.length) await this.deliveries.insertNewWithin(this.db.pool, kept);
  }

  /** Which of these event ids are recorded (under any account). */
  async findRecordedIds(ids: string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows = await this.db.query<{ id: string }>('select id from events where id = any($1::uuid[])', [ids]);
    return new Set(rows.map((r) => r.id));
  }
}

/** An event as the events API shows it, with how many live webhooks have not had it yet. */
export interface EventRow {
  id: string;
  type: string;
  object_type: string;
  object: unknown;
  /** As the driver gives it on this connection (a timestamp string). */
  created_at: Date | string;
  is_test: boolean;
  undelivered_webhooks: number;
}

export interface EventPageQuery {
  accountId: string;
  isTest: boolean;
  /** Bounds on `created_at`, ANDed, in this order. */
  created: { op: '<' | '<=' | '=' | '>=' | '>'; at: Date }[];
  type?: string;
  /** Rows after (ASC) or before (DESC) this position. */
  after?: { createdAt: Date; id: string };
  order: 'ASC' | 'DESC';
  /** Rows returned at most. */
  limit: number;
}

const EVENT_COLUMNS = `e.id, e.type, e.object_type, e.object, e.created_at, e.is_test,
  (select count(*) from deliveries d join webhooks w on w.id = d.webhook_id
    where d.event_id = e.id and d.status <> 'SUCCEEDED' and w.deleted_at is null)::int as undelivered_webhooks`;

/**
 * The `events` table for the config service (the events API and test sends), on its MikroORM
 * connection. Methods that take an `em` run in that one's transaction (`em.execute`: the connection's own `execute` would run outside it).
 */
@Injectable()
export class EventsOrmRepository {
  constructor(private readonly em: EntityManager) {}

  /** One page of an account's events, in `created_at, id` order. */
  listForAccount(q: EventPageQuery): Promise<EventRow[]> {
    const where = ['e.account_id = ?', 'e.is_test = ?'];
    const params: unknown[] = [q.accountId, q.isTest];
    for (const { op, at } of q.created) {
      where.push(`e.created_at ${op} ?`);
      params.push(at);
    }
    if (q.type) {
      where.push('e.type = ?');
      params.push(q.type);
    }
    if (q.after) {
      where.push(`(e.created_at, e.id) ${q.order === 'ASC' ? '>' : '<'} (?, ?)`);
      params.push(q.after.createdAt, q.after.id);
    }
    return this.em
      .getConnection()
      .execute(`select ${EVENT_COLUMNS} from events e where ${where.join(' and ')} order by e.created_at ${q.order}, e.id ${q.order} limit ?`, [...params, q.limit]);
  }

  /** One event of the account, or undefined. */
  async findForAccount(id: string, accountId: string): Promise<EventRow | undefined> {
    const [row] = await this.em.getConnection().execute<EventRow[]>(`select ${EVENT_COLUMNS} from events e where e.id = ? and e.account_id = ?`, [id, accountId]);
    return row;
  }

  /** Is there an event with this id in the account? */
  async existsForAccount(id: string, accountId: string, em: EntityManager = this.em): Promise<boolean> {
    const [event] = await em.execute('select id from events where id = ? and account_id = ?', [id, accountId]);
    return !!event;
  }

  /** Records a test event (`is_test`). */
  async insertTest(
    event: { id: string; accountId: string; type: string; objectType: string | undefined; object: unknown; createdAt: Date },
    em: EntityManager = this.em,
  ): Promise<void> {
    await em.execute('insert into events (id, account_id, type, object_type, object, is_test, created_at) values (?, ?, ?, ?, ?, true, ?)', [
      event.id,
      event.accountId,
      event.type,
      event.objectType,
      JSON.stringify(event.object),
      event.createdAt,
    ]);
  }
}
