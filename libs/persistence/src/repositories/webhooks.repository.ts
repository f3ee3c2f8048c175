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
