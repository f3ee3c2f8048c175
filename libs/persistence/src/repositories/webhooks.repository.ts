import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import type { SqlDatabase } from './sql-database';

/** Reads of the `webhooks` table on the delivery path (the config service writes it through MikroORM). */
export class WebhooksRepository {
  constructor(private readonly db: SqlDatabase) {}

  /** Is there a webhook with this id that is not deleted? */
  async isLive(webhookId: string): Promise<boolean> {
    const rows = await this.db.query('select 1 from webhooks where id = $1 and deleted_at is null', [webhookId]);
    return rows.length > 0;
  }
}

/** Plain reads of the `webhooks` table for the config service's events API and test sends. */
@Injectable()
export class WebhooksOrmRepository {
  constructor(private readonly em: EntityManager) {}

  /** A webhook of the account that is not deleted, or undefined. */
  async findLiveForAccount(id: string, accountId: string): Promise<{ id: string; status: string } | undefined> {
    const [row] = await this.em
      .getConnection()
      .execute<{ id: string; status: string }[]>('select id, status from webhooks where id = ? and account_id = ? and deleted_at is null', [id, accountId]);
    return row;
  }

  /** The ids of the account's webhooks in one of the statuses, not deleted. */
  async listIdsForAccount(accountId: string, statuses: readonly string[], em: EntityManager = this.em): Promise<string[]> {
    const live = await em.execute<{ id: string }[]>('select id from webhooks where account_id = ? and deleted_at is null and status in (?)', [accountId, statuses]);
    return live.map((h) => h.id);
  }
}
