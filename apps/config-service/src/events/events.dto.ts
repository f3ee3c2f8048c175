import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, ValidateBy } from 'class-validator';
import { isTimestamp, PageQueryDto } from '@app/http-common';

const Rfc3339 = () => ValidateBy({ name: 'isRfc3339', validator: { validate: isTimestamp, defaultMessage: (a) => `${a?.property} must be an RFC 3339 timestamp` } });

export class ListEventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ name: 'created_at.lt' }) @IsOptional() @Rfc3339() 'created_at.lt'?: string;
  @ApiPropertyOptional({ name: 'created_at.lte' }) @IsOptional() @Rfc3339() 'created_at.lte'?: string;
  @ApiPropertyOptional({ name: 'created_at.eq' }) @IsOptional() @Rfc3339() 'created_at.eq'?: string;
  @ApiPropertyOptional({ name: 'created_at.gte' }) @IsOptional() @Rfc3339() 'created_at.gte'?: string;
  @ApiPropertyOptional({ name: 'created_at.gt' }) @IsOptional() @Rfc3339() 'created_at.gt'?: string;

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
