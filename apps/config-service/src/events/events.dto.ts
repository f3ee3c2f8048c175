import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Matches } from 'class-validator';
import { PageQueryDto } from '@app/http-common';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const TIME_MESSAGE = 'must be an RFC 3339 timestamp';

export class ListEventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ name: 'created_at.lt' }) @IsOptional() @Matches(RFC3339, { message: TIME_MESSAGE }) 'created_at.lt'?: string;
  @ApiPropertyOptional({ name: 'created_at.lte' }) @IsOptional() @Matches(RFC3339, { message: TIME_MESSAGE }) 'created_at.lte'?: string;
  @ApiPropertyOptional({ name: 'created_at.eq' }) @IsOptional() @Matches(RFC3339, { message: TIME_MESSAGE }) 'created_at.eq'?: string;
  @ApiPropertyOptional({ name: 'created_at.gte' }) @IsOptional() @Matches(RFC3339, { message: TIME_MESSAGE }) 'created_at.gte'?: string;
  @ApiPropertyOptional({ name: 'created_at.gt' }) @IsOptional() @Matches(RFC3339, { message: TIME_MESSAGE }) 'created_at.gt'?: string;

  @ApiPropertyOptional({ example: 'identity.approved' })
  @IsOptional()
  @IsString()
  type?: string;

  @ApiPropertyOptional({ enum: ['true', 'false'], default: 'false' })
  @IsOptional()
  @IsIn(['true', 'false'])
  is_test?: string;

  @ApiPropertyOptional({ enum: ['ASC', 'DESC'], default: 'DESC' })
  @IsOptional()
  @IsIn(['ASC', 'DESC', 'asc', 'desc'])
  order?: string;
}

export class RedeliverDto {
  @ApiPropertyOptional({ description: 'redeliver to this webhook only' })
  @IsOptional()
  @IsUUID()
  webhook_id?: string;
}

export class TestSendDto {
  @ApiPropertyOptional({ example: 'identity.approved' })
  @IsString()
  event_type!: string;
}
