import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';

/** A concluded approval request whose decision has not been handed on yet. */
export interface ConcludedRequestRow {
  id: string;
  account_id: string;
  webhook_id: string;
  action: string;
  status: string;
  /** As the driver gives it on this connection (a timestamp string). */
  decided_at: Date | string;
}

/**
 * The decision relay's reads and marks of the `approval_requests` table, on the approval service's
 * MikroORM connection. Methods that take an `em` run in that one's transaction (`em.execute`: the connection's own `execute` would run outside it).
 */
@Injectable()
export class ApprovalRequestsRepository {
  constructor(private readonly em: EntityManager) {}

  /** The oldest concluded requests not notified yet, skipping (and locking) rows others hold. */
  lockUnnotifiedConcluded<T extends ConcludedRequestRow = ConcludedRequestRow>(limit: number, em: EntityManager = this.em): Promise<T[]> {
    return em.execute<T[]>(
      `select id, account_id, webhook_id, action, status, decided_at from approval_requests
          where notified_at is null and status <> 'PENDING' order by decided_at limit ? for update skip locked`,
      [limit],
    );
  }

  async markNotified(ids: string[], em: EntityManager = this.em): Promise<void> {
    await em.execute(`update approval_requests set notified_at = now() where id in (${ids.map(() => '?').join(',')})`, ids);
  }
}
