import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { DELIVERING_STATUSES, NotFound, Principal, subscribesTo, ValidationFailed, isKnownEventType } from '@app/domain';
import { partitionOf } from '@app/hashing';
import { decodeCursor, encodeCursor } from '@app/http-common';
import { DeliveryPublisher } from '../deliveries/delivery-publisher';

export interface EventView {
  id: string;
  type: string;
  object_type: string;
  object: unknown;
  created_at: string;
  is_test: boolean;
  undelivered_webhooks: number;
}

export interface EventFilter {
  lt?: string;
  lte?: string;
  eq?: string;
  gte?: string;
  gt?: string;
  type?: string;
  isTest: boolean;
  order: 'ASC' | 'DESC';
  limit: number;
  cursor?: string;
}

const EVENT_COLUMNS = `e.id, e.type, e.object_type, e.object, e.created_at, e.is_test,
  (select count(*) from deliveries d where d.event_id = e.id and d.status <> 'SUCCEEDED')::int as undelivered_webhooks`;

function view(row: any): EventView {
  return { ...row, created_at: new Date(row.created_at).toISOString() };
}

/** The events API: what fan-out recorded, with per-event delivery state, and redelivery. */
@Injectable()
export class EventsService {
  constructor(
    private readonly em: EntityManager,
    private readonly publisher: DeliveryPublisher,
  ) {}

  async list(p: Principal, f: EventFilter): Promise<{ events: EventView[]; next_page_cursor: string }> {
    if (f.type && !isKnownEventType(f.type)) throw new ValidationFailed([{ field: 'type', message: 'must be an event type from GET /v2/event-types' }]);
    const where = ['e.account_id = ?', 'e.is_test = ?'];
    const params: unknown[] = [p.accountId, f.isTest];
    const ops: [keyof EventFilter, string][] = [['lt', '<'], ['lte', '<='], ['eq', '='], ['gte', '>='], ['gt', '>']];
    for (const [k, op] of ops) {
      if (f[k] !== undefined) {
        where.push(`e.created_at ${op} ?`);
        params.push(new Date(f[k] as string));
      }
    }
    if (f.type) {
      where.push('e.type = ?');
      params.push(f.type);
    }
    const cursor = decodeCursor(f.cursor);
    if (cursor) {
      where.push(`(e.created_at, e.id) ${f.order === 'ASC' ? '>' : '<'} (?, ?)`);
      params.push(new Date(cursor.t), cursor.id);
    }
    const rows = await this.em.getConnection().execute(
      `select ${EVENT_COLUMNS} from events e where ${where.join(' and ')} order by e.created_at ${f.order}, e.id ${f.order} limit ?`,
      [...params, f.limit + 1],
    );
    const page = rows.slice(0, f.limit).map(view);
    const last = page[page.length - 1];
    return { events: page, next_page_cursor: rows.length > f.limit && last ? encodeCursor({ t: last.created_at, id: last.id }) : '' };
  }

  async get(p: Principal, id: string): Promise<EventView> {
    const [row] = await this.em.getConnection().execute(`select ${EVENT_COLUMNS} from events e where e.id = ? and e.account_id = ?`, [id, p.accountId]);
    if (!row) throw new NotFound('The event');
    return view(row);
  }

  /**
   * Queues the event again for every subscribed live webhook that has not answered it with a 2xx
   * (or for one webhook), with a fresh 24-hour retry window.
   */
  async redeliver(p: Principal, id: string, webhookId?: string): Promise<{ event_id: string; webhook_ids: string[] }> {
    const ids = await this.em.fork().transactional(async (em) => {
      const conn = em.getConnection();
      const [event] = await conn.execute('select id, type, is_test from events where id = ? and account_id = ?', [id, p.accountId]);
      if (!event) throw new NotFound('The event');
      const hooks = await conn.execute<{ id: string; event_types: string[] }[]>(
        'select id, event_types from webhooks where account_id = ? and deleted_at is null and status in (?)',
        [p.accountId, DELIVERING_STATUSES],
      );
      const done = new Set(
        (await conn.execute<{ webhook_id: string }[]>(`select webhook_id from deliveries where event_id = ? and status = 'SUCCEEDED'`, [id])).map((r) => r.webhook_id),
      );
      let targets: string[];
      if (webhookId) {
        if (!hooks.some((h) => h.id === webhookId)) throw new NotFound('The webhook');
        targets = [webhookId];
      } else {
        const existing = new Set((await conn.execute<{ webhook_id: string }[]>('select webhook_id from deliveries where event_id = ?', [id])).map((r) => r.webhook_id));
        targets = hooks.filter((h) => !done.has(h.id) && (existing.has(h.id) || (!event.is_test && subscribesTo(h.event_types, event.type)))).map((h) => h.id);
      }
      const partitions = await this.publisher.partitions();
      for (const w of targets) {
        await conn.execute(
          `insert into deliveries (event_id, webhook_id, account_id, partition, next_attempt_at) values (?, ?, ?, ?, now())
           on conflict (event_id, webhook_id) do update set status = 'PENDING', next_attempt_at = now(), first_attempt_at = null, updated_at = now()`,
          [id, w, p.accountId, partitionOf(w, partitions)],
        );
      }
      return targets;
    });
    return { event_id: id, webhook_ids: ids };
  }
}
