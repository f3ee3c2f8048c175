import { Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import type { ApprovalDecisionKind } from '@app/approvals-contract';

/** One user's approval, rejection or cancellation of a request; an approver approves once. */
@Entity({ tableName: 'approval_decisions' })
export class ApprovalDecision {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'uuid', fieldName: 'request_id' })
  requestId!: string;

  @Property({ type: 'text', fieldName: 'user_name' })
  userName!: string;

  @Property({ type: 'text' })
  decision!: ApprovalDecisionKind;

  @Property({ type: 'timestamptz', fieldName: 'created_at' })
  createdAt: Date = new Date();
}
