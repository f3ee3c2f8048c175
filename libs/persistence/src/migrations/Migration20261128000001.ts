import { Migration } from '@mikro-orm/migrations';

/**
 * Isolation: each attempt carries the key its node gave it, so a batch written again after a lost
 * commit answer records nothing twice; the due-time queue can be read per webhook, so one webhook's
 * backlog cannot starve another's retries.
 */
export class Migration20261128000001 extends Migration {
  async up(): Promise<void> {
    this.addSql(`
      alter table delivery_attempts add column attempt_key uuid;
      create unique index delivery_attempts_key on delivery_attempts (attempt_key);
      create index deliveries_due_by_webhook on deliveries (webhook_id, next_attempt_at) where status = 'PENDING' and next_attempt_at is not null;
      create index deliveries_unscheduled on deliveries (partition, created_at) where status = 'PENDING' and next_attempt_at is null;
    `);
  }

  async down(): Promise<void> {
    this.addSql(`
      drop index deliveries_unscheduled;
      drop index deliveries_due_by_webhook;
      drop index delivery_attempts_key;
      alter table delivery_attempts drop column attempt_key;
    `);
  }
}
