import { Migration } from '@mikro-orm/migrations';

/**
 * Every claimed delivery now enters the due-time indexes at insert (fan-out claims the deliveries
 * of the partitions its node consumes), so each of them is an index entry written per delivery.
 * Two were covered by `deliveries_due_skip` (partition, webhook_id, next_attempt_at): the count of
 * scheduled rows by partition, and the due rows of one webhook (its partition is known).
 */
export class Migration20261129000002 extends Migration {
  async up(): Promise<void> {
    this.addSql('drop index if exists deliveries_due;');
    this.addSql('drop index if exists deliveries_due_by_webhook;');
  }

  async down(): Promise<void> {
    this.addSql(`create index deliveries_due_by_webhook on deliveries (webhook_id, next_attempt_at) where status = 'PENDING' and next_attempt_at is not null;`);
    this.addSql(`create index deliveries_due on deliveries (partition, next_attempt_at) where status = 'PENDING' and next_attempt_at is not null;`);
  }
}
