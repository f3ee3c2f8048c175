import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { APPROVAL_STATUSES, ApprovalStatus } from '@app/approvals-contract';
import { NextPageCursor, PageQueryDto } from '@app/http-common';

export class ListApprovalsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: APPROVAL_STATUSES })
  @IsOptional()
  @IsIn(APPROVAL_STATUSES)
  status?: ApprovalStatus;
}

class ApprovalGrantDto {
  @ApiProperty({ example: 'bob' }) approved_by!: string;
  @ApiProperty({ example: '2026-01-01T12:00:00.000Z' }) approved_at!: string;
}

/** An approval request; `changes` never holds a secret in clear. */
export class ApprovalResponse {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['CREATE', 'UPDATE', 'DELETE', 'POLICY_UPDATE'] }) action!: string;
  @ApiProperty({ type: String, nullable: true }) webhook_id!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, example: { rate_limit: 20 } }) changes!: Record<string, unknown> | null;
  @ApiProperty({ example: 'alice' }) requested_by!: string;
  @ApiProperty({ example: 1 }) required_approvals!: number;
  @ApiProperty({ type: [ApprovalGrantDto] }) approvals!: ApprovalGrantDto[];
  @ApiProperty({ enum: APPROVAL_STATUSES }) status!: string;
  @ApiProperty({ type: String, nullable: true }) decided_by!: string | null;
  @ApiProperty({ example: '2026-01-01T12:00:00.000Z' }) created_at!: string;
  @ApiProperty({ type: String, nullable: true }) decided_at!: string | null;
}

export class ApprovalListResponse {
  @ApiProperty({ type: [ApprovalResponse] }) approvals!: ApprovalResponse[];
  @NextPageCursor() next_page_cursor!: string;
}
