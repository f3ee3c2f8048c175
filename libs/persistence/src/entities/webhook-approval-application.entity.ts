import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

export type ApplicationOutcome = 'APPLIED' | 'FAILED' | 'REVERTED' | 'IGNORED';

/**
 * The config service's record that a decided request was acted on, written in the same transaction
 * as the webhook change: a redelivered decision finds it and changes nothing.
 */
@Entity({ tableName: 'webhook_approval_applications' })
export class WebhookApprovalApplication {
  @PrimaryKey({ type: 'uuid', fieldName: 'request_id' })
  requestId!: string;

  @Property({ type: 'uuid', fieldName: 'account_id' })
  accountId!: string;

  @Property({ type: 'uuid', fieldName: 'webhook_id' })
  webhookId!: string;

  @Property({ type: 'text' })
  outcome!: ApplicationOutcome;

  @Property({ type: 'text', nullable: true })
  detail: string | null = null;

  @Property({ type: 'timestamptz', fieldName: 'applied_at' })
  appliedAt: Date = new Date();
}
