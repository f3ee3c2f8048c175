import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { DeliveriesOrmRepository, DeliveryAttemptsOrmRepository, EventsOrmRepository, WebhooksOrmRepository } from '@app/persistence';
import { randomUUID } from 'node:crypto';
import type { AttemptView } from '@app/api-views';
import { Conflict, DELIVERING_STATUSES, isKnownEventType, NotFound, objectTypeOf, Principal, ValidationFailed } from '@app/domain';
import { partitionOf } from '@app/hashing';
import { decodeCursor, encodeCursor, fromDatabaseTime } from '@app/http-common';
import { DeliveryPublisher } from './delivery-publisher';

export type { AttemptView };

/** Test sends and the attempt log of one webhook. */
@Injectable()
export class DeliveriesService {
  constructor(
    private readonly em: EntityManager,
    private readonly webhooks: WebhooksOrmRepository,
    private readonly events: EventsOrmRepository,
    private readonly deliveries: DeliveriesOrmRepository,
    private readonly attemptLog: DeliveryAttemptsOrmRepository,
    private readonly publisher: DeliveryPublisher,
  ) {}

  private async webhook(p: Principal, id: string): Promise<{ id: string; status: string }> {
    const row = await this.webhooks.findLiveForAccount(id, p.accountId);
    if (!row) throw new NotFound('The webhook');
    return row;
  }

  async attempts(p: Principal, webhookId: string, limit: number, cursorRaw?: string): Promise<{ deliveries: AttemptView[]; next_page_cursor: string }> {
    await this.webhook(p, webhookId);
    const cursor = decodeCursor(cursorRaw, 'serial');
    const rows = await this.attemptLog.listForWebhook(webhookId, p.accountId, limit + 1, cursor ? { createdAt: new Date(cursor.t), id: cursor.id } : undefined);
    const page: AttemptView[] = rows.slice(0, limit).map((r) => ({ ...r, created_at: fromDatabaseTime(r.created_at).toISOString() }));
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
      await this.events.insertTest(
        { id: eventId, accountId: p.accountId, type: eventType, objectType: objectTypeOf(eventType), object: sampleObject(eventType), createdAt: time },
        em,
      );
      await this.deliveries.insert({ eventId, webhookId, accountId: p.accountId, partition: partitionOf(webhookId, partitions) }, em);
    });
    const queued = await this.publisher
      .publish({ event_id: eventId, webhook_id: webhookId, account_id: p.accountId, type: eventType, time: time.toISOString(), is_test: true })
      .catch(() => false);
    // The delivery row is recorded; the retry queue sends it when NATS refused the task (or the cluster routes by node).
    if (!queued) await this.deliveries.markDue(eventId, webhookId);
    return { event_id: eventId };
  }
}

/** A plausible object for a test event: clearly marked, never real data. */
export function sampleObject(type: string): Record<string, unknown> {
  return { id: randomUUID(), test: true, description: `Test ${type} event sent from the webhooks dashboard or API` };
}
