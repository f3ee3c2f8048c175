import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, Max, Min } from 'class-validator';
import { MAX_REQUIRED_APPROVALS, MIN_REQUIRED_APPROVALS } from '@app/approvals-contract';
import { OptionalNotNull } from '@app/http-common';

export class PutWebhookPolicyDto {
  @ApiProperty({ description: 'whether creating, updating and deleting webhooks needs approval' })
  @IsBoolean()
  enabled!: boolean;

  @ApiPropertyOptional({ minimum: MIN_REQUIRED_APPROVALS, maximum: MAX_REQUIRED_APPROVALS, description: 'kept as it is when absent' })
  @OptionalNotNull()
  @IsInt()
  @Min(MIN_REQUIRED_APPROVALS)
  @Max(MAX_REQUIRED_APPROVALS)
  required_approvals?: number;
}

export class PolicyResponse {
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ minimum: MIN_REQUIRED_APPROVALS, maximum: MAX_REQUIRED_APPROVALS, example: 1 }) required_approvals!: number;
  @ApiProperty({ type: String, nullable: true, description: 'the pending request that would change this policy' }) pending_approval_id!: string | null;
}
