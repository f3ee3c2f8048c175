import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayNotEmpty, IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, Length, Matches, Max, MaxLength, Min, Validate,
  ValidateNested, ValidatorConstraint, ValidatorConstraintInterface,
} from 'class-validator';
import { AUTH_TYPES, AuthType, isValidSubscription, MAX_RATE_LIMIT, MAX_URL_LENGTH, MIN_RATE_LIMIT } from '@app/domain';
import { IsHttpsUrl, OptionalNotNull } from '@app/http-common';

/** RFC 9110 token characters: a valid header field name. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;
/** Headers the platform sets itself; an API key may not replace them. */
const NOT_RESERVED_HEADER =
  /^(?!(host|content-type|content-length|transfer-encoding|connection|keep-alive|upgrade|te|trailer|webhook-id|webhook-timestamp|webhook-signature)$)/i;

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

export class CreateWebhookDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'payments-prod' })
  @IsString()
  @Matches(/^.{1,100}$/su, { message: 'name must be 1 to 100 characters' })
  @Matches(/\S/, { message: 'name must not be blank' })
  name!: string;

  @ApiProperty({ maxLength: MAX_URL_LENGTH, example: 'https://hooks.example.com/paxos' })
  @IsString()
  @MaxLength(MAX_URL_LENGTH)
  @IsHttpsUrl()
  url!: string;

  @ApiProperty({ enum: AUTH_TYPES })
  @IsIn(AUTH_TYPES)
  auth_type!: AuthType;

  @ApiPropertyOptional({ type: ApiKeyDto, nullable: true })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ApiKeyDto)
  api_key?: ApiKeyDto | null;

  @ApiPropertyOptional({ type: OAuthDto, nullable: true })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => OAuthDto)
  oauth?: OAuthDto | null;

  @ApiProperty({ type: [String], example: ['identity.approved', 'transfer.*'] })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(100)
  @Validate(IsSubscription)
  event_types!: string[];

  @ApiPropertyOptional({ minimum: MIN_RATE_LIMIT, maximum: MAX_RATE_LIMIT, default: 10 })
  @OptionalNotNull()
  @IsInt()
  @Min(MIN_RATE_LIMIT)
  @Max(MAX_RATE_LIMIT)
  rate_limit?: number;
}

export class UpdateWebhookDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @OptionalNotNull()
  @IsString()
  @Matches(/^.{1,100}$/su, { message: 'name must be 1 to 100 characters' })
  @Matches(/\S/, { message: 'name must not be blank' })
  name?: string;

  @ApiPropertyOptional({ maxLength: MAX_URL_LENGTH })
  @OptionalNotNull()
  @IsString()
  @MaxLength(MAX_URL_LENGTH)
  @IsHttpsUrl()
  url?: string;

  @ApiPropertyOptional({ enum: AUTH_TYPES })
  @OptionalNotNull()
  @IsIn(AUTH_TYPES)
  auth_type?: AuthType;

  @ApiPropertyOptional({ type: ApiKeyDto, nullable: true })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ApiKeyDto)
  api_key?: ApiKeyDto | null;

  @ApiPropertyOptional({ type: OAuthDto, nullable: true })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => OAuthDto)
  oauth?: OAuthDto | null;

  @ApiPropertyOptional({ type: [String] })
  @OptionalNotNull()
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(100)
  @Validate(IsSubscription)
  event_types?: string[];

  @ApiPropertyOptional({ minimum: MIN_RATE_LIMIT, maximum: MAX_RATE_LIMIT })
  @OptionalNotNull()
  @IsInt()
  @Min(MIN_RATE_LIMIT)
  @Max(MAX_RATE_LIMIT)
  rate_limit?: number;
}
