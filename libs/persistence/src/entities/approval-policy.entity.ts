import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

/** Whether an account's webhook changes need approval, and by how many approvers. */
@Entity({ tableName: 'approval_policies' })
export class ApprovalPolicy {
  @PrimaryKey({ type: 'uuid', fieldName: 'account_id' })
  accountId!: string;

  @Property({ type: 'boolean' })
  enabled!: boolean;

  @Property({ type: 'smallint', fieldName: 'required_approvals' })
  requiredApprovals!: number;

  @Property({ type: 'text', fieldName: 'updated_by', nullable: true })
  updatedBy: string | null = null;

  @Property({ type: 'timestamptz', fieldName: 'updated_at' })
  updatedAt: Date = new Date();
}
