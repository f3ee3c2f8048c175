import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';

/** A committed webhook change waiting to be relayed to the KV bucket. */
export interface OutboxRow {
  id: string;
  webhook_id: string;
  op: 'PUT' | 'DELETE';
  payload: unknown;
}

/**
 * Reads and marks of the `webhook_outbox` table for the relay, on the config service's MikroORM
 * connection (rows are written with their webhook change, through the entity). Methods that take an
 * `em` run in that one's transaction (`em.execute`: the connection's own `execute` would run outside it).
 */
@Injectable()
export class WebhookOutboxRepository {
  constructor(private readonly em: EntityManager) {}

  /** Takes the transaction-scoped advisory lock `key` if nobody holds it. */
  async tryTakeRelayLock(key: number, em: EntityManager = this.em): Promise<boolean> {
    const [{ locked }] = await em.execute<{ locked: boolean }[]>('select pg_try_advisory_xact_lock(?) as locked', [key]);
    return locked;
  }

  /** The oldest entries not relayed yet, in commit order. */
  listUnpublished(limit: number, em: EntityManager = this.em): Promise<OutboxRow[]> {
    return em.execute<OutboxRow[]>('select id, webhook_id, op, payload from webhook_outbox where published_at is null order by id limit ?', [limit]);
  }

  async markPublished(ids: string[], em: EntityManager = this.em): Promise<void> {
    await em.execute('update webhook_outbox set published_at = now() where id in (' + ids.map(() => '?').join(',') + ')', ids);
  }

  /** Deletes entries relayed longer ago than `age`, a constant interval literal such as `1 day`. */
  async deletePublishedOlderThan(age: string): Promise<void> {
    await this.em.getConnection().execute(`delete from webhook_outbox where published_at < now() - interval '${age}'`);
  }
}
