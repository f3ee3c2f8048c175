import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * A committed webhook change waiting to be relayed to the NATS KV bucket `webhooks`. Written in the
 * same transaction as the change itself, so the bucket never misses one.
 */
@Entity({ tableName: 'webhook_outbox' })
export class OutboxEntry {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'uuid', fieldName: 'webhook_id' })
  webhookId!: string;

  /** PUT carries the snapshot; DELETE removes the key. */
  @Property({ type: 'text' })
  op!: 'PUT' | 'DELETE';

  @Property({ type: 'json', nullable: true })
  payload: unknown = null;

  @Property({ type: 'timestamptz', fieldName: 'created_at' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', fieldName: 'published_at', nullable: true })
  publishedAt: Date | null = null;
}
