import { Migration } from '@mikro-orm/migrations';

/**
 * Two costs every delivery paid for nothing:
 * - Deliveries no longer reference webhooks by foreign key. Every delivery insert took a key-share
 *   lock on its webhook's row and looked it up (about 5-8 µs of PostgreSQL per delivery, on the
 *   hottest rows of the database), to guard a delete that never happens: webhooks are deleted
 *   softly (`deleted_at`), and an account's deletion still removes its deliveries, through their events.
 * - The index of attempts by event alone: no query reads attempts by event without its webhook
 *   (the attempt log pages by webhook, retention by time), yet every attempt wrote an entry to it.
 */
export class Migration20261129000001 extends Migration {
  async up(): Promise<void> {
    this.addSql('alter table deliveries drop constraint if exists deliveries_webhook_id_fkey;');
    this.addSql('drop index if exists delivery_attempts_event;');
  }

  async down(): Promise<void> {
    this.addSql('create index delivery_attempts_event on delivery_attempts (event_id);');
    this.addSql('alter table deliveries add constraint deliveries_webhook_id_fkey foreign key (webhook_id) references webhooks(id) on delete cascade;');
  }
}
