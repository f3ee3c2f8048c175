import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  Validate,
  ValidateNested,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { AUTH_TYPES, AuthType, isValidSubscription, MAX_RATE_LIMIT, MAX_URL_LENGTH, MIN_RATE_LIMIT } from '@app/domain';
import { IsHttpsUrl, NextPageCursor, OptionalNotNull } from '@app/http-common';

/** RFC 9110 token characters: a valid header field name. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;
/** Headers the platform sets itself; an API key may not replace them. */
const NOT_RESERVED_HEADER = /^(?!(host|content-type|content-length|transfer-encoding|connection|keep-alive|upgrade|te|trailer|webhook-id|webhook-timestamp|webhook-signature)$)/i;

@ValidatorConstraint({ name: 'isSubscription' })
class IsSubscription implements ValidatorConstraintInterface {
  validate(values: unknown): boolean {
    return Array.isArray(values) && values.every((v) => typeof v === 'string' && isValidSubscription(v));
  }
  defaultMessage(): string {
    return 'each value must be an event type from GET /v2/event-types or a group wildcard such as identity.*';
  }
}

export class ApiKeyDto {
  @ApiProperty({ example: 'X-Api-Key' })
  @IsString()
  @Matches(HEADER_NAME, { message: 'header must be a valid HTTP header name' })
  @Matches(NOT_RESERVED_HEADER, { message: 'header is set by the platform and cannot carry the API key' })
  header!: string;

  @ApiProperty({ description: 'write-only; responses show only the last 4 characters', writeOnly: true })
  @IsString()
  @Length(1, 4096)
  key!: string;
}

export class OAuthDto {
  @ApiProperty({ example: 'https://auth.example.com/oauth2/token' })
  @IsString()
  @MaxLength(MAX_URL_LENGTH)
  @IsHttpsUrl()
  client_url!: string;

  @ApiProperty()
  @IsString()
  @Length(1, 256)
  client_id!: string;

  @ApiProperty({ description: 'write-only; responses show only the last 4 characters', writeOnly: true })
  @IsString()
  @Length(1, 4096)
  client_secret!: string;
}

/**
 * Each field's rules, written once: Create requires the field, Update makes it optional but never
 * null (OptionalNotNull), and both apply the same checks.
 */
const NameRules = () => applyDecorators(IsString(), Matches(/^.{1,100}$/su, { message: 'name must be 1 to 100 characters' }), Matches(/\S/, { message: 'name must not be blank' }));
const UrlRules = () => applyDecorators(IsString(), MaxLength(MAX_URL_LENGTH), IsHttpsUrl());
const AuthTypeRules = () => IsIn(AUTH_TYPES);
/** Credentials may be null (the other auth type's are cleared); the auth type decides which are needed. */
const CredentialsRules = (dto: new () => object) =>
  applyDecorators(
    IsOptional(),
    IsObject(),
    ValidateNested(),
    Type(() => dto),
  );
const EventTypesRules = () => applyDecorators(IsArray(), ArrayNotEmpty(), ArrayMaxSize(100), Validate(IsSubscription));
const RateLimitRules = () => applyDecorators(IsInt(), Min(MIN_RATE_LIMIT), Max(MAX_RATE_LIMIT));

export class CreateWebhookDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'payments-prod' })
  @NameRules()
  name!: string;

  @ApiProperty({ maxLength: MAX_URL_LENGTH, example: 'https://hooks.example.com/paxos' })
  @UrlRules()
  url!: string;

  @ApiProperty({ enum: AUTH_TYPES })
  @AuthTypeRules()
  auth_type!: AuthType;

  @ApiPropertyOptional({ type: ApiKeyDto, nullable: true })
  @CredentialsRules(ApiKeyDto)
  api_key?: ApiKeyDto | null;

  @ApiPropertyOptional({ type: OAuthDto, nullable: true })
  @CredentialsRules(OAuthDto)
  oauth?: OAuthDto | null;

  @ApiProperty({ type: [String], example: ['identity.approved', 'transfer.*'] })
  @EventTypesRules()
  event_types!: string[];

  @ApiPropertyOptional({ minimum: MIN_RATE_LIMIT, maximum: MAX_RATE_LIMIT, default: 10 })
  @OptionalNotNull()
  @RateLimitRules()
  rate_limit?: number;
}

export class UpdateWebhookDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @OptionalNotNull()
  @NameRules()
  name?: string;

  @ApiPropertyOptional({ maxLength: MAX_URL_LENGTH })
  @OptionalNotNull()
  @UrlRules()
  url?: string;

  @ApiPropertyOptional({ enum: AUTH_TYPES })
  @OptionalNotNull()
  @AuthTypeRules()
  auth_type?: AuthType;

  @ApiPropertyOptional({ type: ApiKeyDto, nullable: true })
  @CredentialsRules(ApiKeyDto)
  api_key?: ApiKeyDto | null;

  @ApiPropertyOptional({ type: OAuthDto, nullable: true })
  @CredentialsRules(OAuthDto)
  oauth?: OAuthDto | null;

  @ApiPropertyOptional({ type: [String] })
  @OptionalNotNull()
  @EventTypesRules()
  event_types?: string[];

  @ApiPropertyOptional({ minimum: MIN_RATE_LIMIT, maximum: MAX_RATE_LIMIT })
  @OptionalNotNull()
  @RateLimitRules()
  rate_limit?: number;
}

class MaskedApiKeyDto {
  @ApiProperty({ example: 'X-Api-Key' })
  header!: string;

  @ApiProperty({ example: '****cdef', description: 'all but the last 4 characters masked' })
  key!: string;
}

class MaskedOAuthDto {
  @ApiProperty({ example: 'https://auth.example.com/oauth2/token' })
  client_url!: string;

  @ApiProperty()
  client_id!: string;

  @ApiProperty({ example: '****cdef', description: 'all but the last 4 characters masked' })
  client_secret!: string;
}

class ApprovalGrantDto {
  @ApiProperty({ example: 'bob' })
  approved_by!: string;

  @ApiProperty({ example: '2026-01-01T12:00:00.000Z' })
  approved_at!: string;
}

class ApprovalHistoryEntryDto {
  @ApiProperty() approval_id!: string;
  @ApiProperty({ enum: ['CREATE', 'UPDATE', 'DELETE'] }) action!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true }) changes!: Record<string, unknown> | null;
  @ApiProperty() requested_by!: string;
  @ApiProperty() requested_at!: string;
  @ApiProperty() required_approvals!: number;
  @ApiProperty({ type: [ApprovalGrantDto] }) approvals!: ApprovalGrantDto[];
  @ApiProperty({ enum: ['PENDING', 'APPROVED', 'REJECTED', 'CANCELLED'] }) status!: string;
  @ApiProperty({ type: String, nullable: true }) decided_by!: string | null;
  @ApiProperty({ type: String, nullable: true }) decided_at!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'what the config service did with the decision' }) result!: string | null;
  @ApiProperty({ type: String, nullable: true }) result_detail!: string | null;
  @ApiProperty({ type: String, nullable: true }) applied_at!: string | null;
}

/** A webhook as responses show it: credentials masked, the signing secret on create only. */
export class WebhookResponse {
  @ApiProperty({ example: '0b7f6f0e-2f7a-4d7e-9a53-8a0e6c1d2b3c' }) id!: string;
  @ApiProperty({ example: 'payments-prod' }) name!: string;
  @ApiProperty({ example: 'https://hooks.example.com/paxos' }) url!: string;
  @ApiProperty({ enum: AUTH_TYPES }) auth_type!: string;
  @ApiProperty({ type: MaskedApiKeyDto, nullable: true }) api_key!: MaskedApiKeyDto | null;
  @ApiProperty({ type: MaskedOAuthDto, nullable: true }) oauth!: MaskedOAuthDto | null;
  @ApiProperty({ type: [String], example: ['identity.approved'] }) event_types!: string[];
  @ApiProperty({ minimum: MIN_RATE_LIMIT, maximum: MAX_RATE_LIMIT, example: 10 }) rate_limit!: number;
  @ApiProperty({ enum: ['PENDING', 'ACTIVE', 'PENDING_UPDATE', 'PENDING_DELETION', 'ERROR'] }) status!: string;
  @ApiProperty({ type: String, nullable: true, description: 'why the webhook is in ERROR' }) status_detail!: string | null;
  @ApiPropertyOptional({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', description: 'only in the answer to the create' }) signing_secret?: string;
  @ApiProperty({ type: String, nullable: true }) pending_approval_id!: string | null;
  @ApiProperty({ example: '2026-01-01T12:00:00.000Z' }) created_at!: string;
  @ApiProperty({ example: '2026-01-01T12:00:00.000Z' }) updated_at!: string;
  @ApiPropertyOptional({ type: [ApprovalHistoryEntryDto], description: 'on GET of one webhook' }) approval_history?: ApprovalHistoryEntryDto[];
}

export class WebhookListResponse {
  @ApiProperty({ type: [WebhookResponse] }) webhooks!: WebhookResponse[];
  @NextPageCursor() next_page_cursor!: string;
}
