import { Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import type { ApprovalAction, ApprovalStatus } from '@app/approvals-contract';

/**
 * A change that waits for approvals. `changes` is what approvers see (secrets masked);
 * `proposal_enc` is what the config service applies, encrypted because it may hold secrets.
 * `required_approvals` is the policy in force when the request was made. `notified_at` marks a
 * decided webhook request as handed to the config service (the approval service's outbox).
 */
@Entity({ tableName: 'approval_requests' })
export class ApprovalRequest {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'uuid', fieldName: 'account_id' })
  accountId!: string;

  @Property({ type: 'text' })
  action!: ApprovalAction;

  @Property({ type: 'uuid', fieldName: 'webhook_id', nullable: true })
  webhookId: string | null = null;

  @Property({ type: 'json', nullable: true })
  changes: Record<string, unknown> | null = null;

  @Property({ type: 'text', fieldName: 'proposal_enc', nullable: true })
  proposalEnc: string | null = null;

  @Property({ type: 'text', fieldName: 'requested_by' })
  requestedBy!: string;

  @Property({ type: 'smallint', fieldName: 'required_approvals' })
  requiredApprovals!: number;

  @Property({ type: 'text' })
  status: ApprovalStatus = 'PENDING';

  @Property({ type: 'text', fieldName: 'decided_by', nullable: true })
  decidedBy: string | null = null;

  @Property({ type: 'timestamptz', fieldName: 'created_at' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', fieldName: 'decided_at', nullable: true })
  decidedAt: Date | null = null;

  @Property({ type: 'timestamptz', fieldName: 'notified_at', nullable: true })
  notifiedAt: Date | null = null;
}
