import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { DeliveriesOrmRepository, EventPageQuery, EventRow, EventsOrmRepository, WebhooksOrmRepository } from '@app/persistence';
import { DELIVERING_STATUSES, NotFound, Principal, ValidationFailed, isKnownEventType } from '@app/domain';
import { partitionOf } from '@app/hashing';
import { decodeCursor, encodeCursor, fromDatabaseTime, parseTimestamp } from '@app/http-common';
import { DeliveryPublisher } from '../deliveries/delivery-publisher';
import type { EventView } from '@app/api-views';

export type { EventView };

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

function view(row: EventRow): EventView {
  return { ...row, created_at: fromDatabaseTime(row.created_at).toISOString() };
}

/** The events API: what fan-out recorded, with per-event delivery state, and redelivery. */
@Injectable()
export class EventsService {
  constructor(
    private readonly em: EntityManager,
    private readonly events: EventsOrmRepository,
    private readonly deliveries: DeliveriesOrmRepository,
    private readonly webhooks: WebhooksOrmRepository,
    private readonly publisher: DeliveryPublisher,
  ) {}

  async list(p: Principal, f: EventFilter): Promise<{ events: EventView[]; next_page_cursor: string }> {
    if (f.type && !isKnownEventType(f.type)) throw new ValidationFailed([{ field: 'type', message: 'must be an event type from GET /v2/event-types' }]);
    const created: EventPageQuery['created'] = [];
    const ops: [keyof EventFilter, EventPageQuery['created'][number]['op']][] = [
      ['lt', '<'],
      ['lte', '<='],
      ['eq', '='],
      ['gte', '>='],
      ['gt', '>'],
    ];
    for (const [k, op] of ops) {
      if (f[k] !== undefined) created.push({ op, at: parseTimestamp(f[k]) as Date }); // checked by the controller's DTO
    }
    const cursor = decodeCursor(f.cursor);
    const rows = await this.events.listForAccount({
      accountId: p.accountId,
      isTest: f.isTest,
      created,
      type: f.type,
      after: cursor ? { createdAt: new Date(cursor.t), id: cursor.id } : undefined,
      order: f.order,
      limit: f.limit + 1,
    });
    const page = rows.slice(0, f.limit).map(view);
    const last = page[page.length - 1];
    return { events: page, next_page_cursor: rows.length > f.limit && last ? encodeCursor({ t: last.created_at, id: last.id }) : '' };
  }

  async get(p: Principal, id: string): Promise<EventView> {
    const row = await this.events.findForAccount(id, p.accountId);
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
      if (!(await this.events.existsForAccount(id, p.accountId, em))) throw new NotFound('The event');
      const live = await this.webhooks.listIdsForAccount(p.accountId, DELIVERING_STATUSES, em);
      let targets: string[];
      if (webhookId) {
        if (!live.includes(webhookId)) throw new NotFound('The webhook');
        targets = [webhookId];
      } else {
        const pending = await this.deliveries.listUnsucceededWebhookIds(id, em);
        const liveIds = new Set(live);
        targets = pending.filter((w) => liveIds.has(w));
      }
      const partitions = await this.publisher.partitions();
      for (const w of targets) {
        await this.deliveries.requeue({ eventId: id, webhookId: w, accountId: p.accountId, partition: partitionOf(w, partitions) }, em);
      }
      return targets;
    });
    return { event_id: id, webhook_ids: ids };
  }
}
