import type { SqlDatabase } from './sql-database';

/** Reads of the `accounts` table on the delivery path. */
export class AccountsRepository {
  constructor(private readonly db: SqlDatabase) {}

  /** The ids among `ids` that name an account. */
  async findExistingIds(ids: string[]): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>('select id from accounts where id = any($1::uuid[])', [ids]);
    return rows.map((r) => r.id);
  }
}
