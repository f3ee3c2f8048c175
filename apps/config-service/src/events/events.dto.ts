import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, ValidateBy } from 'class-validator';
import { CanonicalUuid, isTimestamp, NextPageCursor, PageQueryDto } from '@app/http-common';

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
  @CanonicalUuid()
  webhook_id?: string;
}

export class TestSendDto {
  @ApiProperty({ example: 'identity.approved' })
  @IsString()
  event_type!: string;
}

export class EventResponse {
  @ApiProperty({ example: '5f0c8a9e-8d1b-4c1e-9a53-8a0e6c1d2b3c' }) id!: string;
  @ApiProperty({ example: 'identity.approved' }) type!: string;
  @ApiProperty({ example: 'identity_summary_status_change' }) object_type!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { id: 'b2c1d0e9-0000-4000-8000-000000000001', status: 'APPROVED' } }) object!: Record<string, unknown>;
  @ApiProperty({ example: '2026-01-01T12:00:00.000Z' }) created_at!: string;
  @ApiProperty() is_test!: boolean;
  @ApiProperty({ minimum: 0, description: 'subscribed webhooks that have not yet answered this event with a 2xx' }) undelivered_webhooks!: number;
}

export class EventListResponse {
  @ApiProperty({ type: [EventResponse] }) events!: EventResponse[];
  @NextPageCursor() next_page_cursor!: string;
}

export class RedeliverResponse {
  @ApiProperty() event_id!: string;
  @ApiProperty({ type: [String], description: 'the webhooks the event is delivered to again' }) webhook_ids!: string[];
}

export class TestSendResponse {
  @ApiProperty({ description: 'the test event, see GET /v2/events/{id}?is_test' }) event_id!: string;
}

class DeliveryAttemptDto {
  @ApiProperty() id!: string;
  @ApiProperty() event_id!: string;
  @ApiProperty({ example: 'identity.approved' }) event_type!: string;
  @ApiProperty() is_test!: boolean;
  @ApiProperty({ minimum: 1 }) attempt!: number;
  @ApiProperty() success!: boolean;
  @ApiProperty({ type: Number, nullable: true, example: 200 }) status_code!: number | null;
  @ApiProperty({ type: String, nullable: true, example: 'timeout waiting for response headers (10 s)' }) error!: string | null;
  @ApiProperty({ minimum: 0 }) latency_ms!: number;
  @ApiProperty({ type: String, nullable: true }) response_body_excerpt!: string | null;
  @ApiProperty({ example: 'SUCCEEDED' }) delivery_status!: string;
  @ApiProperty({ example: '2026-01-01T12:00:00.000Z' }) created_at!: string;
}

export class DeliveryAttemptListResponse {
  @ApiProperty({ type: [DeliveryAttemptDto] }) deliveries!: DeliveryAttemptDto[];
  @NextPageCursor() next_page_cursor!: string;
}
