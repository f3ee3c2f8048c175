import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import type { ValidEvent } from '@app/domain';
import { DeliveriesRepository, NewDelivery } from './deliveries.repository';
import type { SqlDatabase } from './sql-database';

/** The `events` table: every accepted published event, for the events API and the deliveries' tasks. */
export class EventsRepository {
  constructor(
    private readonly db: SqlDatabase,
    private readonly deliveries: DeliveriesRepository,
  ) {}

  /**
   * In one transaction: inserts the events not recorded yet (a re-run adds nothing), then the
   * deliveries of every event now recorded under its own account. `foreign`: the ids of the events
   * whose id is already recorded for another account: those events and their deliveries are not
   * written, never mixed with the other account's. `repeated`: the events of this account that were
   * recorded before this call (fanned out again: their deliveries may have been sent already).
   * Three statements, whatever the batch size.
   */
  async recordEventsWithDeliveries(events: ValidEvent[], deliveries: NewDelivery[]): Promise<{ foreign: Set<string>; repeated: Set<string> }> {
    const foreign = new Set<string>();
    const repeated = new Set<string>();
    if (!events.length) return { foreign, repeated };
    await this.db.transaction(async (client) => {
      const inserted = await client.query<{ id: string; account_id: string }>(
        `insert into events (id, account_id, type, object_type, object, is_test, created_at)
         select id, account_id, type, object_type, object, false, created_at
         from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[]) as t(id, account_id, type, object_type, object, created_at)
         on conflict (id) do nothing
         returning id, account_id`,
        [
          events.map((e) => e.id),
          events.map((e) => e.account_id),
          events.map((e) => e.type),
          events.map((e) => e.object_type),
          events.map((e) => JSON.stringify(e.object)),
          events.map((e) => e.time),
        ],
      );
      // The owner of each id: inserted just now (the first of a batch's copies wins), or earlier.
      const ownerOf = new Map(inserted.rows.map((r) => [r.id, r.account_id]));
      const earlier = events.filter((e) => !ownerOf.has(e.id)).map((e) => e.id);
      if (earlier.length) {
        const owners = await client.query<{ id: string; account_id: string }>('select id, account_id from events where id = any($1::uuid[])', [earlier]);
        for (const r of owners.rows) {
          ownerOf.set(r.id, r.account_id);
          repeated.add(r.id);
        }
      }
      for (const e of events) if (ownerOf.get(e.id) !== e.account_id) foreign.add(e.id);
      for (const id of foreign) repeated.delete(id);
      const kept = deliveries.filter((d) => !foreign.has(d.eventId));
      if (kept.length) await this.deliveries.insertNewWithin(client, kept);
    });
    return { foreign, repeated };
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
