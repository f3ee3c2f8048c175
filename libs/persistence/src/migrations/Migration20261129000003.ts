import { Migration } from '@mikro-orm/migrations';

/**
 * When a delivery was last asked for again (a redeliver). An attempt that started before then
 * and is recorded after it must not settle the row: the redelivery would be lost.
 */
export class Migration20261129000003 extends Migration {
  async up(): Promise<void> {
    this.addSql('alter table deliveries add column requeued_at timestamptz null;');
  }

  async down(): Promise<void> {
    this.addSql('alter table deliveries drop column requeued_at;');
  }
}
