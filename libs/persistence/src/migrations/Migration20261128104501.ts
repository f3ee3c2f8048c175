import { Migration } from '@mikro-orm/migrations';

/**
 * Retention: the pruner walks events by the time they were recorded and attempts by the time they
 * were made, oldest first, so each batch reads only the rows it deletes.
 */
export class Migration20261128104501 extends Migration {
  async up(): Promise<void> {
    this.addSql('create index events_received on events (received_at);');
    this.addSql('create index delivery_attempts_created on delivery_attempts (created_at);');
  }

  async down(): Promise<void> {
    this.addSql('drop index delivery_attempts_created;');
    this.addSql('drop index events_received;');
  }
}
