import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { Conflict, DELIVERING_STATUSES, isKnownEventType, NotFound, objectTypeOf, Principal, ValidationFailed } from '@app/domain';
import { partitionOf } from '@app/hashing';
import { decodeCursor, encodeCursor } from '@app/http-common';
import { DeliveryPublisher } from './delivery-publisher';

export interface AttemptView {
  id: string;
  event_id: string;
  event_type: string;
  is_test: boolean;
  attempt: number;
  success: boolean;
  status_code: number | null;
  error: string | null;
  latency_ms: number;
  response_body_excerpt: string | null;
  delivery_status: string;
  created_at: string;
}

/** Test sends and the attempt log of one webhook. */
@Injectable()
export class DeliveriesService {
  constructor(
    private readonly em: EntityManager,
    private readonly publisher: DeliveryPublisher,
  ) {}

  private async webhook(p: Principal, id: string): Promise<{ id: string; status: string }> {
    const [row] = await this.em
      .getConnection()
      .execute<{ id: string; status: string }[]>('select id, status from webhooks where id = ? and account_id = ? and deleted_at is null', [id, p.accountId]);
    if (!row) throw new NotFound('The webhook');
    return row;
  }

  async attempts(p: Principal, webhookId: string, limit: number, cursorRaw?: string): Promise<{ deliveries: AttemptView[]; next_page_cursor: string }> {
    await this.webhook(p, webhookId);
    const cursor = decodeCursor(cursorRaw, 'serial');
    const rows = await this.em.getConnection().execute(
      `select a.id::text as id, a.event_id, e.type as event_type, e.is_test, a.attempt, a.success, a.status_code, a.error, a.latency_ms,
              a.response_excerpt as response_body_excerpt, d.status as delivery_status, a.created_at
       from delivery_attempts a
       join events e on e.id = a.event_id
       left join deliveries d on d.event_id = a.event_id and d.webhook_id = a.webhook_id
       where a.webhook_id = ? and a.account_id = ? ${cursor ? 'and (a.created_at, a.id) < (?, ?)' : ''}
       order by a.created_at desc, a.id desc limit ?`,
      [webhookId, p.accountId, ...(cursor ? [new Date(cursor.t), cursor.id] : []), limit + 1],
    );
    const page: AttemptView[] = rows.slice(0, limit).map((r: any) => ({ ...r, created_at: new Date(r.created_at).toISOString() }));
    const last = page[page.length - 1];
    return { deliveries: page, next_page_cursor: rows.length > limit && last ? encodeCursor({ t: last.created_at, id: last.id }) : '' };
  }

  /** Records a test event for this webhook alone and puts it on the normal delivery path. */
  async sendTest(p: Principal, webhookId: string, eventType: string): Promise<{ event_id: string }> {
    if (!isKnownEventType(eventType)) throw new ValidationFailed([{ field: 'event_type', message: 'must be an event type from GET /v2/event-types' }]);
    const hook = await this.webhook(p, webhookId);
    if (!(DELIVERING_STATUSES as readonly string[]).includes(hook.status)) {
      throw new Conflict('webhook-not-active', `The webhook is ${hook.status}; test events go only to active webhooks.`);
    }
    const eventId = randomUUID();
    const time = new Date();
    const partitions = await this.publisher.partitions();
    await this.em.fork().transactional(async (em) => {
      const conn = em.getConnection();
      await conn.execute('insert into events (id, account_id, type, object_type, object, is_test, created_at) values (?, ?, ?, ?, ?, true, ?)', [
        eventId,
        p.accountId,
        eventType,
        objectTypeOf(eventType),
        JSON.stringify(sampleObject(eventType)),
        time,
      ]);
      await conn.execute('insert into deliveries (event_id, webhook_id, account_id, partition) values (?, ?, ?, ?)', [
        eventId,
        webhookId,
        p.accountId,
        partitionOf(webhookId, partitions),
      ]);
    });
    try {
      await this.publisher.publish({ event_id: eventId, webhook_id: webhookId, account_id: p.accountId, type: eventType, time: time.toISOString(), is_test: true });
    } catch {
      // The delivery row is recorded; the retry queue will send it even if NATS refused the task.
      await this.em.getConnection().execute('update deliveries set next_attempt_at = now() where event_id = ? and webhook_id = ?', [eventId, webhookId]);
    }
    return { event_id: eventId };
  }
}

/** A plausible object for a test event: clearly marked, never real data. */
export function sampleObject(type: string): Record<string, unknown> {
  return { id: randomUUID(), test: true, description: `Test ${type} event sent from the webhooks dashboard or API` };
}
