import { ArrayType, Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import type { AuthType, WebhookStatus } from '@app/domain';

/**
 * A webhook. Secrets are stored encrypted (`*_enc`). `slot` (1-10) is unique per account among
 * live rows, so the database itself refuses an 11th webhook; a deleted webhook keeps its row (for
 * delivery history) with `deleted_at` set and no slot.
 */
@Entity({ tableName: 'webhooks' })
export class Webhook {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'uuid', fieldName: 'account_id' })
  accountId!: string;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text' })
  url!: string;

  @Property({ type: 'text', fieldName: 'auth_type' })
  authType!: AuthType;

  @Property({ type: 'text', fieldName: 'api_key_header', nullable: true })
  apiKeyHeader: string | null = null;

  @Property({ type: 'text', fieldName: 'api_key_enc', nullable: true })
  apiKeyEnc: string | null = null;

  @Property({ type: 'text', fieldName: 'oauth_client_url', nullable: true })
  oauthClientUrl: string | null = null;

  @Property({ type: 'text', fieldName: 'oauth_client_id', nullable: true })
  oauthClientId: string | null = null;

  @Property({ type: 'text', fieldName: 'oauth_client_secret_enc', nullable: true })
  oauthClientSecretEnc: string | null = null;

  @Property({ type: ArrayType, fieldName: 'event_types' })
  eventTypes!: string[];

  @Property({ type: 'integer', fieldName: 'rate_limit' })
  rateLimit!: number;

  @Property({ type: 'text' })
  status!: WebhookStatus;

  @Property({ type: 'text', fieldName: 'error_detail', nullable: true })
  errorDetail: string | null = null;

  @Property({ type: 'text', fieldName: 'signing_secret_enc' })
  signingSecretEnc!: string;

  @Property({ type: 'uuid', fieldName: 'pending_approval_id', nullable: true })
  pendingApprovalId: string | null = null;

  @Property({ type: 'smallint', nullable: true })
  slot: number | null = null;

  @Property({ type: 'integer' })
  version: number = 1;

  @Property({ type: 'timestamptz', fieldName: 'created_at' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', fieldName: 'updated_at' })
  updatedAt: Date = new Date();

  @Property({ type: 'timestamptz', fieldName: 'deleted_at', nullable: true })
  deletedAt: Date | null = null;
}
