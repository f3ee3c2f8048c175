import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { DELIVERING_STATUSES, NotFound, Principal, ValidationFailed, isKnownEventType } from '@app/domain';
import { partitionOf } from '@app/hashing';
import { decodeCursor, encodeCursor, parseTimestamp } from '@app/http-common';
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
  (select count(*) from deliveries d join webhooks w on w.id = d.webhook_id
    where d.event_id = e.id and d.status <> 'SUCCEEDED' and w.deleted_at is null)::int as undelivered_webhooks`;

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
    const ops: [keyof EventFilter, string][] = [
      ['lt', '<'],
      ['lte', '<='],
      ['eq', '='],
      ['gte', '>='],
      ['gt', '>'],
    ];
    for (const [k, op] of ops) {
      if (f[k] !== undefined) {
        where.push(`e.created_at ${op} ?`);
        params.push(parseTimestamp(f[k]));
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
    const rows = await this.em
      .getConnection()
      .execute(`select ${EVENT_COLUMNS} from events e where ${where.join(' and ')} order by e.created_at ${f.order}, e.id ${f.order} limit ?`, [...params, f.limit + 1]);
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
   * Queues the event again, with a fresh 24-hour retry window, for every live webhook it was
   * delivered to that has not answered it with a 2xx (the ones `undelivered_webhooks` counts), or
   * for one named webhook of the account, whatever its earlier outcome.
   */
  async redeliver(p: Principal, id: string, webhookId?: string): Promise<{ event_id: string; webhook_ids: string[] }> {
    const ids = await this.em.fork().transactional(async (em) => {
      const conn = em.getConnection();
      const [event] = await conn.execute('select id from events where id = ? and account_id = ?', [id, p.accountId]);
      if (!event) throw new NotFound('The event');
      const live = await conn.execute<{ id: string }[]>('select id from webhooks where account_id = ? and deleted_at is null and status in (?)', [
        p.accountId,
        DELIVERING_STATUSES,
      ]);
      let targets: string[];
      if (webhookId) {
        if (!live.some((h) => h.id === webhookId)) throw new NotFound('The webhook');
        targets = [webhookId];
      } else {
        const pending = await conn.execute<{ webhook_id: string }[]>(`select webhook_id from deliveries where event_id = ? and status <> 'SUCCEEDED'`, [id]);
        const liveIds = new Set(live.map((h) => h.id));
        targets = pending.map((r) => r.webhook_id).filter((w) => liveIds.has(w));
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
