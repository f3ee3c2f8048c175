import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { PROBLEM_CATALOGUE } from './problem-catalogue';
import { PROBLEM_CONTENT_TYPE } from './problem';

class FieldErrorDto {
  @ApiProperty({ example: 'rate_limit' })
  field!: string;

  @ApiProperty({ example: 'rate_limit must not be greater than 100' })
  message!: string;
}

/** RFC 7807 problem document, as every refusal of this API is served (`application/problem+json`). */
export class ProblemResponse {
  @ApiProperty({ description: '`/problems/<code>`', enum: Object.keys(PROBLEM_CATALOGUE).map((c) => `/problems/${c}`), example: '/problems/validation-error' })
  type!: string;

  @ApiProperty({ example: 'Validation failed' })
  title!: string;

  @ApiProperty({ minimum: 400, maximum: 599, example: 400 })
  status!: number;

  @ApiProperty({ example: 'The request is not valid.' })
  detail!: string;

  @ApiPropertyOptional({
    type: 'object',
    description: 'validation errors name each bad field in `errors`',
    properties: { errors: { type: 'array', items: { $ref: '#/components/schemas/FieldErrorDto' } } },
    additionalProperties: true,
    example: { errors: [{ field: 'rate_limit', message: 'rate_limit must not be greater than 100' }] },
  })
  meta?: Record<string, unknown>;
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed JSON, unknown fields, wrong types, bad ids or cursors',
  401: 'No token, or a token this API does not know',
  403: 'The token lacks a role this route needs',
  404: "No such object in the caller's account",
  409: 'The change conflicts with the current state',
  415: 'The body is not UTF-8 JSON',
  503: 'A dependency is unavailable; `Retry-After` says when to try again',
};

/** Problem-document responses for the given statuses (and always 400, 401, 415 for bodies, 503). */
export function ApiProblems(...statuses: number[]) {
  return applyDecorators(
    ApiExtraModels(ProblemResponse, FieldErrorDto),
    ...[...new Set(statuses)].map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status] ?? 'Problem document',
        content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemResponse) } } },
      }),
    ),
  );
}

/** The problems every authenticated route of this API may answer. */
export const ApiAuthenticatedProblems = (...more: number[]) => ApiProblems(400, 401, 403, 503, ...more);
